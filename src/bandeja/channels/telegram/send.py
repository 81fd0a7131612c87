"""Sending as the bot: ``POST {base}/bot<token>/sendMessage``.

The reply goes to the conversation's chat (the person's private chat, or the group that
mentioned the bot, answering the mention). Telegram answers ``{"ok": true, "result": Message}``
or ``{"ok": false, "error_code", "description", "parameters"?}``; 429 carries
``parameters.retry_after``. The bot token is part of the URL, so it never appears in an error we
keep.
"""

from __future__ import annotations

from typing import Any

import httpx

from bandeja.channels.base import ChannelConfig, SendError, SendRequest, SendResult
from bandeja.core.conversations.models import Kind

BOT_API = "https://api.telegram.org"


def _chat_id(value: str) -> int | str:
    """Numeric chat ids go as numbers; ``@channelusername`` stays a string."""
    return int(value) if value.lstrip("-").isdigit() else value


def _message_id(external_id: str | None) -> int | None:
    """The Telegram message id inside one of our ``"<chat_id>:<message_id>"`` external ids."""
    if not external_id or ":" not in external_id:
        return None
    tail = external_id.rsplit(":", 1)[1]
    return int(tail) if tail.isdigit() else None


def request_body(request: SendRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {"chat_id": _chat_id(request.thread_key), "text": request.text}
    replied = _message_id(request.reply_to_external_id)
    if request.kind is Kind.mention and replied is not None:
        # In a group, answer the message that mentioned the bot; still send if it was deleted.
        payload["reply_parameters"] = {"message_id": replied, "allow_sending_without_reply": True}
    return payload


async def send(
    client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
) -> SendResult:
    token = channel.secrets.get("access_token", "")
    if not token:
        raise SendError("no_token", "no bot token is configured for this channel account")
    url = f"{channel.api_base_url(BOT_API)}/bot{token}/sendMessage"
    response = await client.post(
        url, json=request_body(request), headers={"Idempotency-Key": request.idempotency_key}
    )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    result = body.get("result")
    if response.status_code == 200 and body.get("ok") and isinstance(result, dict):
        chat_id = (result.get("chat") or {}).get("id", request.thread_key)
        return SendResult(
            external_id=f"{chat_id}:{result['message_id']}", recipient_id=str(chat_id)
        )
    raise error(response, body)


def error(response: httpx.Response, body: dict[str, Any]) -> SendError:
    """Telegram's error answer as a SendError keeping its ``error_code`` and ``description``.
    429 (flood control) and 5xx are retried, honouring ``retry_after``; 400 (bad request),
    401 (token revoked) and 403 (blocked by the user, cannot initiate) are final."""
    raw_code = body.get("error_code", response.status_code)
    code = int(raw_code) if str(raw_code).isdigit() else response.status_code
    description = str(body.get("description") or response.reason_phrase or "error")
    raw_parameters = body.get("parameters")
    parameters: dict[str, Any] = raw_parameters if isinstance(raw_parameters, dict) else {}
    retry_after: float | None = None
    raw = parameters.get("retry_after") or response.headers.get("retry-after")
    if raw is not None:
        try:
            retry_after = float(raw)
        except (TypeError, ValueError):
            retry_after = None
    retryable = code == 429 or code >= 500 or response.status_code >= 500
    if parameters.get("migrate_to_chat_id"):
        description += f" (the group is now chat {parameters['migrate_to_chat_id']})"
    return SendError(str(code), description, retryable=retryable, retry_after=retry_after)
