"""Replies through the Graph API.

- DM: ``POST {base}/{page-id}/messages`` with ``{"recipient": {"id": PSID}, "messaging_type":
  "RESPONSE" | "MESSAGE_TAG", "tag"?, "message": {"text", "metadata": "bandeja:<key>"}}``,
  answered ``{"recipient_id", "message_id"}``. The metadata comes back in the message echo,
  which is how the echo finds its reply.
- Private reply to a comment: the same call with ``"recipient": {"comment_id": …}``.
- Public comment reply: ``POST {base}/{top-level-comment-id}/comments`` with ``{"message"}``,
  answered ``{"id"}``. Facebook nests replies one level deep, so the parent is always the
  thread's top-level comment (the conversation's ``thread_key``).

The Page access token goes in the ``Authorization`` header rather than the documented
``access_token`` query parameter, so that it never appears in logged URLs. Errors keep Meta's
code and message (``meta.graph_error``): rate limits (4, 17, 613), ``is_transient`` errors, 429
and 5xx retry; policy errors (10 / 2018278 outside the window, 551 person unavailable, 190
token expired, 100 invalid parameter) are final.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig, SendError, SendRequest, SendResult
from bandeja.core.conversations.models import Kind


def message_body(request: SendRequest) -> dict[str, Any]:
    """The Send API body of a DM or a private reply."""
    if request.private_reply_to_external_id:
        recipient: dict[str, str] = {"comment_id": request.private_reply_to_external_id}
    else:
        recipient = {"id": request.recipient_id}
    body: dict[str, Any] = {
        "recipient": recipient,
        "messaging_type": "MESSAGE_TAG" if request.tag else "RESPONSE",
        "message": {"text": request.text, "metadata": f"bandeja:{request.idempotency_key}"},
    }
    if request.tag:
        body["tag"] = request.tag
    return body


def _headers(channel: ChannelConfig, request: SendRequest) -> dict[str, str]:
    token = channel.secrets.get("access_token", "")
    if not token:
        raise SendError(
            "no_access_token",
            "this Page has no access token in Bandeja; reconnect the channel account",
        )
    # The sandbox dedupes on Idempotency-Key; the Graph API ignores it.
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": request.idempotency_key}


def _error(response: httpx.Response) -> SendError:
    error = meta.graph_error(response)
    try:
        transient = bool(response.json().get("error", {}).get("is_transient"))
    except (ValueError, AttributeError):
        transient = False
    if transient and not error.retryable:
        error.retryable = True
    return error


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise _error(response)
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _id(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


async def send(
    client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
) -> SendResult:
    base = channel.api_base_url(meta.GRAPH_API)
    headers = _headers(channel, request)
    if request.kind is Kind.mention:
        raise SendError(
            "not_supported", "Facebook Page mentions cannot be answered through the API"
        )
    if request.kind is Kind.comment and not request.private_reply_to_external_id:
        parent = request.thread_key
        response = await client.post(
            f"{base}/{quote(parent, safe='')}/comments",
            json={"message": request.text},
            headers=headers,
        )
        return SendResult(external_id=_id(_answer(response).get("id")))
    response = await client.post(
        f"{base}/{quote(channel.external_id, safe='')}/messages",
        json=message_body(request),
        headers=headers,
    )
    data = _answer(response)
    return SendResult(
        external_id=_id(data.get("message_id")), recipient_id=_id(data.get("recipient_id"))
    )
