"""Sending on X with the v2 API, as the account (OAuth 2.0 user token, ``Bearer``).

- 1:1 DM: ``POST /2/dm_conversations/with/{participant_id}/messages`` ``{"text"}``
- a new group DM: ``POST /2/dm_conversations``
  ``{"conversation_type": "Group", "participant_ids": [...], "message": {"text"}}``
- a message in an existing group DM: ``POST /2/dm_conversations/{dm_conversation_id}/messages``
- a mention reply: ``POST /2/tweets`` ``{"text", "reply": {"in_reply_to_tweet_id"}}``

DMs answer ``{"data": {"dm_conversation_id", "dm_event_id"}}`` and posts ``{"data": {"id",
"text"}}``. X has no metadata field to carry our idempotency key back in the echo; the echo is
matched by the id X answered (or by text while the answer is on its way). The ``Idempotency-Key``
header is sent anyway: X ignores it, the sandbox deduplicates on it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from bandeja.channels.base import ChannelConfig, SendError, SendRequest, SendResult
from bandeja.core.conversations.models import Kind

DEFAULT_API_BASE_URL = "https://api.x.com"
# v1.1-style error codes that mean "later": rate limit exceeded, over capacity, internal error.
_TRANSIENT_CODES = {"88", "130", "131"}


def _path_id(value: str) -> str:
    return quote(value, safe="")


def _route(base: str, request: SendRequest) -> tuple[str, dict[str, Any]]:
    text: dict[str, Any] = {"text": request.text}
    media_ids = [str(a["media_id"]) for a in request.attachments if a.get("media_id")]
    if request.kind is not Kind.dm:
        if not request.reply_to_external_id:
            # Never fall back to a standalone public post: that is not a reply to anyone.
            raise SendError(
                "no_post_to_reply", "there is no customer post in this conversation to reply to"
            )
        body = {**text, "reply": {"in_reply_to_tweet_id": request.reply_to_external_id}}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        return f"{base}/2/tweets", body
    if media_ids:
        text["attachments"] = [{"media_id": m} for m in media_ids[:1]]  # one per DM
    if request.extra_recipients:
        participants = [
            request.recipient_id,
            *(r for r in request.extra_recipients if r != request.recipient_id),
        ]
        return f"{base}/2/dm_conversations", {
            "conversation_type": "Group",
            "participant_ids": participants,
            "message": text,
        }
    if request.thread_key and request.thread_key != request.recipient_id:
        # A group conversation: its thread key is X's dm_conversation_id (see parse.py).
        return f"{base}/2/dm_conversations/{_path_id(request.thread_key)}/messages", text
    return f"{base}/2/dm_conversations/with/{_path_id(request.recipient_id)}/messages", text


async def send(
    client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
) -> SendResult:
    url, body = _route(channel.api_base_url(DEFAULT_API_BASE_URL), request)
    headers = {
        "Authorization": f"Bearer {channel.secrets.get('access_token', '')}",
        "Idempotency-Key": request.idempotency_key,
    }
    response = await client.post(url, json=body, headers=headers)
    if response.status_code >= 300:
        raise x_error(response)
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    data = answer.get("data") if isinstance(answer, dict) else None
    data = data if isinstance(data, dict) else {}
    external_id = data.get("dm_event_id") or data.get("id")
    if external_id is None and isinstance(answer, dict) and answer.get("errors"):
        # A 2xx carrying only errors: nothing was created.
        raise x_error(response)
    return SendResult(
        external_id=str(external_id) if external_id is not None else None,
        recipient_id=request.recipient_id,
    )


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait: ``retry-after``, else the ``x-rate-limit-reset`` epoch second."""
    raw = response.headers.get("retry-after")
    if raw:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            pass
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(float(reset) - (time.time() if now is None else now), 1.0)
        except ValueError:
            return None
    return None


def x_error(response: httpx.Response) -> SendError:
    """X's error answer → SendError, keeping X's code and words.

    Two shapes exist: the v2 problem ``{"title", "detail", "type", "status"}`` (``errors`` may
    hold parameter problems) and the v1.1 ``{"errors": [{"code", "message"}]}`` still used for
    DM refusals such as 349 "You cannot send messages to this user".
    """
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    coded = next((e for e in errors if e.get("code") is not None), None)
    if coded is not None:
        code = str(coded["code"])
        message = str(coded.get("message") or body.get("detail") or "")
    else:
        problem = str(body.get("type") or "")
        code = problem.rstrip("/").rsplit("/", 1)[-1] if "/" in problem else ""
        code = code or f"http_{status}"
        details = [str(e["message"]) for e in errors if e.get("message")]
        message = "; ".join(
            part for part in (str(body.get("detail") or body.get("title") or ""), *details) if part
        )
    message = message or response.text[:300] or response.reason_phrase
    retryable = status == 429 or status >= 500 or code in _TRANSIENT_CODES
    return SendError(
        code, message, retryable=retryable, retry_after=retry_after(response) if retryable else None
    )
