"""Telegram's part of the sandbox: the updates the Bot API POSTs to a webhook, and its
``sendMessage`` method.

Deliveries carry ``X-Telegram-Bot-Api-Secret-Token`` like the real API. Telegram sends bots no
read receipts and no echoes of their own messages, so ``SimRead``, ``SimStatus`` and ``SimEcho``
produce nothing. The sandbox's ids are strings; Telegram's user, chat and message ids are
integers, so they are mapped to stable integers here (the same string, the same number).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bandeja.channels.sandbox.contract import (
    Delivery,
    SandboxApi,
    SandboxChannel,
    SentRecord,
    SimEdit,
    SimEvent,
    SimMessage,
    SimPerson,
    SimReaction,
)
from bandeja.channels.telegram.parse import bot_username
from bandeja.channels.telegram.rules import TEXT_LIMIT
from bandeja.channels.telegram.verify import SECRET_HEADER
from bandeja.core.channels.models import Platform


def number(value: str, *, bits: int = 31) -> int:
    """A sandbox id as a Telegram integer id: itself when numeric, else a stable hash."""
    if value.isdigit():
        return int(value)
    digest = hashlib.sha256(value.encode()).digest()
    return int(int.from_bytes(digest[:8], "big") % (2**bits - 1)) + 1


def _seconds(at: datetime) -> int:
    return int(at.timestamp())


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def user(person: SimPerson) -> dict[str, Any]:
    first, _, last = person.name.partition(" ")
    data: dict[str, Any] = {
        "id": number(person.id, bits=40),
        "is_bot": False,
        "first_name": first or person.name,
    }
    if last:
        data["last_name"] = last
    if person.handle:
        # Telegram usernames allow letters, digits and underscores only.
        data["username"] = "".join(c if c.isalnum() else "_" for c in person.handle)
    data["language_code"] = person.language
    return data


def private_chat(person: SimPerson) -> dict[str, Any]:
    data = {
        k: v for k, v in user(person).items() if k in ("id", "first_name", "last_name", "username")
    }
    return {**data, "type": "private"}


class TelegramFake:
    platform = Platform.telegram

    def __init__(self) -> None:
        self._update_ids = itertools.count(700_000_001)
        # Which chat a simulated message was posted in (edits and reactions need it).
        self._chats: dict[str, dict[str, Any]] = {}

    # --- webhooks ---------------------------------------------------------------------------

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        match event:
            case SimMessage():
                update = self._message_update(channel, event)
            case SimEdit():
                chat = self._chats.get(event.message_id) or private_chat(event.person)
                update = {
                    "edited_message": {
                        "message_id": number(event.message_id),
                        "from": user(event.person),
                        "chat": chat,
                        "date": _seconds(event.at) - 60,
                        "edit_date": _seconds(event.at),
                        "text": event.text,
                    }
                }
            case SimReaction():
                update = {"message_reaction": self._reaction(event)}
            case _:
                # No read receipts, delivery statuses, echoes or opt-outs reach a bot.
                return []
        if update is None:
            return []
        update = {"update_id": next(self._update_ids), **update}
        return [self._signed(channel, update)]

    def _message_update(self, channel: SandboxChannel, event: SimMessage) -> dict[str, Any] | None:
        message: dict[str, Any] = {
            "message_id": number(event.message_id),
            "from": user(event.person),
            "date": _seconds(event.at),
        }
        text = event.text
        if event.kind == "dm":
            message["chat"] = private_chat(event.person)
        elif event.kind == "mention":
            group = event.post_id or f"{channel.external_id}-group"
            message["chat"] = {
                "id": -(10**12 + number(group) % 10**12),
                "type": "supergroup",
                "title": event.post_text or "Community chat",
            }
            username = bot_username(channel.name, {})
            if username:
                mention = f"@{username}"
                text = f"{mention} {text}"
                message["entities"] = [
                    {"type": "mention", "offset": 0, "length": _utf16_len(mention)}
                ]
            else:
                # A bot whose username the sandbox cannot tell is addressed by replying to it.
                message["reply_to_message"] = {
                    "message_id": number(f"{group}-bot"),
                    "chat": message["chat"],
                    "date": _seconds(event.at) - 300,
                    "text": "👋",
                    "from": {
                        "id": number(channel.external_id, bits=40),
                        "is_bot": True,
                        "first_name": channel.name,
                    },
                }
        else:
            return None  # Telegram has no comment threads for a bot
        self._chats[event.message_id] = message["chat"]
        images = [a for a in event.attachments if a.get("type") == "image"]
        if images:
            file_id = f"AgACAgQAAxkBAAI{number(event.message_id)}"
            message["photo"] = [
                {
                    "file_id": f"{file_id}-s",
                    "file_unique_id": f"AQAD{number(file_id)}s",
                    "file_size": 1480,
                    "width": 90,
                    "height": 68,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": f"AQAD{number(file_id)}",
                    "file_size": 48211,
                    "width": 1280,
                    "height": 960,
                },
            ]
            if text:
                message["caption"] = text
        elif text:
            message["text"] = text
        if event.reply_to_message_id and "reply_to_message" not in message:
            message["reply_to_message"] = {
                "message_id": number(event.reply_to_message_id),
                "chat": message["chat"],
                "date": _seconds(event.at) - 60,
            }
        return {"message": message}

    def _reaction(self, event: SimReaction) -> dict[str, Any]:
        chat = self._chats.get(event.message_id) or private_chat(event.person)
        return {
            "chat": chat,
            "message_id": number(event.message_id),
            "user": user(event.person),
            "date": _seconds(event.at),
            "old_reaction": [],
            "new_reaction": (
                [{"type": "emoji", "emoji": event.reaction}] if event.reaction else []
            ),
        }

    def _signed(self, channel: SandboxChannel, update: dict[str, Any]) -> Delivery:
        body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SECRET_HEADER: channel.secrets.get("signing_secret", ""),
        }
        return Delivery(url=channel.webhook_url, headers=headers, body=body)

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        return []  # a bot's own messages never come back as updates

    # --- the Bot API --------------------------------------------------------------------------

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        async def send_message(request: Request) -> JSONResponse:
            channel = api.channel_by_token(Platform.telegram, request.path_params["token"])
            if channel is None:
                return _error(401, "Unauthorized")
            key = request.headers.get("idempotency-key")
            earlier = api.replay(key)
            if earlier is not None:
                return _ok(channel, earlier)
            failure = api.injected_failure(Platform.telegram)
            if failure is not None:
                status, body, headers = failure
                return JSONResponse(body, status_code=status, headers=headers)
            try:
                payload = await request.json()
            except ValueError:
                return _error(400, "Bad Request: can't parse request body")
            if not isinstance(payload, dict) or payload.get("chat_id") in (None, ""):
                return _error(400, "Bad Request: chat_id is empty")
            text = payload.get("text")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "Bad Request: message text is empty")
            if len(text) > TEXT_LIMIT:
                return _error(400, "Bad Request: message is too long")
            chat_id = str(payload["chat_id"])
            if not chat_id.startswith("-"):
                if api.last_inbound_at(channel, chat_id) is None:
                    return _error(403, "Forbidden: bot can't initiate conversation with a user")
                person = api.person(Platform.telegram, chat_id)
                if person is not None and not person.accepts_dms:
                    return _error(403, "Forbidden: bot was blocked by the user")
            wait = api.rate_limited(f"telegram:{channel.bandeja_id}:{chat_id}", 1, 1.0)
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                return _error(
                    429,
                    f"Too Many Requests: retry after {seconds}",
                    parameters={"retry_after": seconds},
                )
            record = api.record_send(channel, chat_id, text, payload, key)
            return _ok(channel, record)

        return [Route("/bot{token}/sendMessage", send_message, methods=["POST"])]


def _error(
    code: int, description: str, *, parameters: dict[str, Any] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def _ok(channel: SandboxChannel, record: SentRecord) -> JSONResponse:
    chat_id = int(record.payload["chat_id"])
    chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    result: dict[str, Any] = {
        "message_id": number(record.message_id),
        "from": {
            "id": number(channel.external_id, bits=40),
            "is_bot": True,
            "first_name": channel.name,
            "username": bot_username(channel.name, {}),
        },
        "chat": chat,
        "date": _seconds(record.at),
        "text": record.text,
    }
    if isinstance(record.payload.get("reply_parameters"), dict):
        result["reply_to_message"] = {
            "message_id": record.payload["reply_parameters"].get("message_id"),
            "chat": chat,
        }
    return JSONResponse({"ok": True, "result": result})


FAKE = TelegramFake()
