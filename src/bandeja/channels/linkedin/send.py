"""Answering as the Page: a comment, ``POST {base}/rest/socialActions/{post URN}/comments``.

- in a ``comment`` conversation (thread key = the top-level comment URN) the reply is a nested
  comment: ``object`` is the post (the comment URN's activity) and ``parentComment`` the thread's
  top-level comment (LinkedIn nests one level only, so answering a reply answers its thread);
- in a ``mention`` conversation (thread key = the mentioning post) the reply is a top-level
  comment on that post.

The body is ``{"actor": "urn:li:organization:<id>", "object", "message": {"text"},
"parentComment"?}``; LinkedIn answers 201 with the created comment (``commentUrn``) and its id in
the ``x-restli-id`` header. Page DMs do not exist in the API: ``dm`` is refused before sending.
"""

from __future__ import annotations

from typing import Any

import httpx

from bandeja.channels.base import ChannelConfig, SendError, SendRequest, SendResult
from bandeja.channels.linkedin import urns
from bandeja.channels.linkedin.api import REST_API, error, headers
from bandeja.core.conversations.models import Kind


def request_body(channel: ChannelConfig, request: SendRequest) -> tuple[str, dict[str, Any]]:
    """The post the comment goes under, and the request body."""
    body: dict[str, Any] = {"actor": urns.organization(channel.external_id)}
    if request.kind is Kind.comment:
        parts = urns.comment_parts(request.thread_key)
        if parts is None:
            raise SendError("bad_thread", f"not a LinkedIn comment thread: {request.thread_key}")
        post = parts[0]
        body.update(
            object=post,
            message={"text": request.text},
            parentComment=urns.comment(request.thread_key),
        )
    elif request.kind is Kind.mention:
        post = request.thread_key
        body.update(object=post, message={"text": request.text})
    else:
        raise SendError("not_supported", "LinkedIn Pages cannot send direct messages")
    return post, body


async def send(
    client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
) -> SendResult:
    if not channel.secrets.get("access_token"):
        raise SendError("no_token", "no access token is configured for this channel account")
    post, body = request_body(channel, request)
    url = f"{channel.api_base_url(REST_API)}/rest/socialActions/{urns.path(post)}/comments"
    response = await client.post(
        url, json=body, headers={**headers(channel), "Idempotency-Key": request.idempotency_key}
    )
    if response.status_code not in (200, 201):
        raise error(response)
    try:
        created = response.json()
    except ValueError:
        created = None
    comment = urns.comment(created.get("commentUrn")) if isinstance(created, dict) else None
    restli_id = response.headers.get("x-restli-id", "")
    if comment is None and restli_id:
        comment = urns.comment(restli_id) or urns.make_comment(post, restli_id)
    recipient = request.recipient_id or None
    return SendResult(external_id=comment, recipient_id=recipient)
