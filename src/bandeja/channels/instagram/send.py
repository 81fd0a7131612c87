"""Sending through the Instagram API with Facebook Login (Graph API, ``graph.facebook.com``).

  - DM: ``POST /{ig-user-id}/messages`` ``{"recipient": {"id": IGSID}, "message": {"text"}}``
    (+ ``"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"``) → ``{recipient_id, message_id}``
  - private reply to a comment: the same with ``"recipient": {"comment_id": …}``
  - public reply to a comment: ``POST /{ig-comment-id}/replies`` ``{"message"}`` → ``{id}``; always
    on the top-level comment (the thread key), since Instagram nests replies one level deep
  - reply to a mention: ``POST /{ig-user-id}/mentions`` ``{"media_id", "comment_id", "message"}``
    → ``{id}`` (``comment_id`` left out for a mention in a caption)

Auth: ``Authorization: Bearer <access token>``. Every request also carries
``Idempotency-Key: <key>`` (the sandbox dedupes on it; Graph ignores it). Instagram's Send API
has no metadata field, so echoes are matched to our replies by message id (or by text).
Errors keep Meta's code and message (``meta.graph_error``): rate limits (4, 17, 613…), 429 and
5xx are retried; the closed window (10 / 2534022) and bad parameters (100) are final.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig, SendError, SendRequest, SendResult
from bandeja.channels.instagram.parse import split_mention_thread_key
from bandeja.channels.instagram.rules import HUMAN_AGENT
from bandeja.core.conversations.models import Kind


def build(channel: ChannelConfig, request: SendRequest) -> tuple[str, dict[str, Any]]:
    """The (URL, JSON body) of a reply; raises ``SendError`` for what Instagram cannot send."""
    if request.extra_recipients:
        raise SendError("not_supported", "Instagram sends a message to one person at a time")
    if request.template is not None:
        raise SendError("not_supported", "Instagram has no message templates")
    base = channel.api_base_url(meta.GRAPH_API)
    account = quote(channel.external_id, safe="")
    if request.private_reply_to_external_id:
        return f"{base}/{account}/messages", {
            "recipient": {"comment_id": request.private_reply_to_external_id},
            "message": {"text": request.text},
        }
    if request.kind is Kind.dm:
        body: dict[str, Any] = {
            # A DM thread's key is the person's IGSID by construction; the contact's identity
            # may be another one (a username-keyed mention author merged into the contact).
            "recipient": {"id": request.thread_key or request.recipient_id},
            "message": {"text": request.text},
        }
        if request.tag:
            if request.tag.upper() != HUMAN_AGENT:
                raise SendError(
                    "not_supported", f"Instagram accepts only the {HUMAN_AGENT} message tag"
                )
            body["messaging_type"] = "MESSAGE_TAG"
            body["tag"] = HUMAN_AGENT
        return f"{base}/{account}/messages", body
    if request.kind is Kind.comment:
        return f"{base}/{quote(request.thread_key, safe='')}/replies", {"message": request.text}
    media_id, comment_id = split_mention_thread_key(request.thread_key)
    if not media_id:
        raise SendError(
            "not_supported", "the mention arrived without its media id; answer it on Instagram"
        )
    body = {"media_id": media_id, "message": request.text}
    if comment_id:
        body["comment_id"] = comment_id
    return f"{base}/{account}/mentions", body


async def send(
    client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
) -> SendResult:
    token = channel.secrets.get("access_token", "")
    if not token:
        raise SendError(
            "no_access_token",
            "this Instagram account has no access token; reconnect it in the channel settings",
        )
    url, body = build(channel, request)
    response = await client.post(
        url,
        json=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": request.idempotency_key,
        },
    )
    if response.status_code >= 300:
        raise meta.graph_error(response)
    try:
        data = response.json()
    except ValueError:
        data = None
    external_id = (data.get("message_id") or data.get("id")) if isinstance(data, dict) else None
    if not external_id:
        # Graph said yes but not what it created: the reply may well be out there.
        raise SendError(
            "bad_response",
            f"unexpected answer from Instagram: {response.text[:200]}",
            ambiguous=True,
        )
    recipient = data.get("recipient_id") if isinstance(data, dict) else None
    return SendResult(
        external_id=str(external_id), recipient_id=str(recipient) if recipient else None
    )
