"""The sandbox's WhatsApp: the webhooks WhatsApp sends, and (``fake_api.py``) its send API.

Deliveries have the Cloud API's exact shape (``object: whatsapp_business_account`` →
``entry[].changes[]`` with ``field`` and ``value``), compact JSON with non-ASCII escaped as Meta
sends it, signed with ``X-Hub-Signature-256`` over those bytes. WhatsApp has no echo of an API
send: it reports on it with ``statuses`` (sent, delivered, read), which is what ``echoes`` plays.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bandeja.channels.base import hmac_sha256_hex
from bandeja.channels.sandbox.contract import (
    Delivery,
    SandboxApi,
    SandboxChannel,
    SentRecord,
    SimDelete,
    SimEcho,
    SimEdit,
    SimEvent,
    SimMessage,
    SimOptOut,
    SimPerson,
    SimReaction,
    SimRead,
    SimStatus,
)
from bandeja.channels.whatsapp.fake_api import ERROR_TITLES, SendApi
from bandeja.core.channels.models import Platform

_PROGRESS: tuple[Literal["sent", "delivered", "read"], ...] = ("sent", "delivered", "read")
MEDIA_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/pdf",
    "sticker": "image/webp",
}


class WhatsAppFake:
    platform = Platform.whatsapp

    # --- webhooks --------------------------------------------------------------------------

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        match event:
            case SimMessage(kind="dm"):
                value = self._messages_value(channel, event.person, self._message(channel, event))
            case SimReaction():
                value = self._messages_value(
                    channel,
                    event.person,
                    {
                        **self._head(
                            event.person,
                            _derived_id(
                                "reaction", event.message_id, event.person.id, event.at.isoformat()
                            ),
                            event.at.timestamp(),
                        ),
                        "type": "reaction",
                        "reaction": {"message_id": event.message_id, "emoji": event.reaction or ""},
                    },
                )
            case SimEdit():
                value = self._messages_value(
                    channel,
                    event.person,
                    {
                        **self._head(
                            event.person,
                            _derived_id("edit", event.message_id, event.at.isoformat()),
                            event.at.timestamp(),
                        ),
                        "type": "edit",
                        "edit": {
                            "original_message_id": event.message_id,
                            "message": {"type": "text", "text": {"body": event.text}},
                        },
                    },
                )
            case SimDelete(kind="dm"):
                value = self._messages_value(
                    channel,
                    event.person,
                    {
                        **self._head(
                            event.person,
                            _derived_id("revoke", event.message_id),
                            event.at.timestamp(),
                        ),
                        "type": "revoke",
                        "revoke": {"original_message_id": event.message_id},
                    },
                )
            case SimStatus():
                value = self._statuses_value(
                    channel,
                    event.person.id,
                    event.message_id,
                    event.status,
                    event.at.timestamp(),
                    event.error_code,
                    event.error_message,
                )
            case SimRead(message_id=str() as message_id):
                # WhatsApp reports reads per message (there is no watermark).
                value = self._statuses_value(
                    channel,
                    event.person.id,
                    message_id,
                    event.status,
                    event.at.timestamp(),
                    None,
                    None,
                )
            case SimEcho():
                return [
                    self._sign(
                        channel,
                        "smb_message_echoes",
                        {
                            **self._base_value(channel),
                            "contacts": [{"wa_id": event.person.id}],
                            "message_echoes": [
                                {
                                    "from": _display_number(channel),
                                    "to": event.person.id,
                                    "id": event.message_id,
                                    "timestamp": str(int(event.at.timestamp())),
                                    "type": "text",
                                    "text": {"body": event.text},
                                }
                            ],
                        },
                    )
                ]
            case SimOptOut():
                return [
                    self._sign(
                        channel,
                        "user_preferences",
                        {
                            **self._base_value(channel),
                            "contacts": [_contact(event.person)],
                            "user_preferences": [
                                {
                                    "wa_id": event.person.id,
                                    "detail": (
                                        "User requested to resume marketing messages"
                                        if event.opted_in
                                        else "User requested to stop marketing messages"
                                    ),
                                    "category": "marketing_messages",
                                    "value": "resume" if event.opted_in else "stop",
                                    "timestamp": int(event.at.timestamp()),
                                }
                            ],
                        },
                    )
                ]
            case _:
                # Comments and mentions do not exist on WhatsApp; a read without a message id
                # has no WhatsApp equivalent.
                return []
        return [self._sign(channel, "messages", value)]

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        """After a send WhatsApp reports ``sent``, then ``delivered``, then ``read``."""
        person = SimPerson(
            id=sent.recipient_id, name=sent.recipient_id, handle=sent.recipient_id, language="en"
        )
        return [
            SimStatus(
                person=person,
                message_id=sent.message_id,
                status=status,
                at=sent.at + timedelta(seconds=i),
            )
            for i, status in enumerate(_PROGRESS)
        ]

    def _message(self, channel: SandboxChannel, event: SimMessage) -> dict[str, Any]:
        message: dict[str, Any] = self._head(event.person, event.message_id, event.at.timestamp())
        if event.reply_to_message_id:
            message["context"] = {"from": _display_number(channel), "id": event.reply_to_message_id}
        attachment = event.attachments[0] if event.attachments else None
        kind = str(attachment.get("type", "")) if attachment else ""
        if attachment is not None and kind in MEDIA_MIME:
            media: dict[str, Any] = {
                "mime_type": attachment.get("mime_type") or MEDIA_MIME[kind],
                "sha256": base64.b64encode(
                    hashlib.sha256(event.message_id.encode()).digest()
                ).decode(),
                "id": str(attachment.get("media_id") or _digits(event.message_id, 16)),
            }
            if kind in ("image", "video", "document") and event.text:
                media["caption"] = event.text
            if kind == "document":
                media["filename"] = attachment.get("name") or "document.pdf"
            if kind == "audio":
                media["voice"] = bool(attachment.get("voice", True))
            message["type"], message[kind] = kind, media
        elif attachment is not None and kind == "location":
            message["type"] = "location"
            message["location"] = {
                k: attachment[k]
                for k in ("latitude", "longitude", "name", "address")
                if k in attachment
            }
        else:
            message["type"], message["text"] = "text", {"body": event.text}
        return message

    def _head(self, person: SimPerson, message_id: str, at: float) -> dict[str, Any]:
        return {"from": person.id, "id": message_id, "timestamp": str(int(at))}

    def _base_value(self, channel: SandboxChannel) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": _display_number(channel),
                "phone_number_id": channel.external_id,
            },
        }

    def _messages_value(
        self, channel: SandboxChannel, person: SimPerson, message: dict[str, Any]
    ) -> dict[str, Any]:
        return {**self._base_value(channel), "contacts": [_contact(person)], "messages": [message]}

    def _statuses_value(
        self,
        channel: SandboxChannel,
        recipient: str,
        message_id: str,
        status: str,
        at: float,
        error_code: str | None,
        error_message: str | None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": message_id,
            "status": status,
            "timestamp": str(int(at)),
            "recipient_id": recipient,
        }
        if status in ("sent", "delivered", "read"):
            item["pricing"] = {
                "billable": False,
                "pricing_model": "PMP",
                "category": "service",
                "type": "free_customer_service",
            }
        if status == "failed":
            code = error_code or "131026"
            title, details = ERROR_TITLES.get(code, (error_message or "Message failed", ""))
            item["errors"] = [
                {
                    "code": int(code) if code.isdigit() else code,
                    "title": title,
                    "message": error_message or title,
                    "error_data": {"details": details or error_message or title},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/"
                    "error-codes/",
                }
            ]
        return {**self._base_value(channel), "statuses": [item]}

    def _sign(self, channel: SandboxChannel, field: str, value: dict[str, Any]) -> Delivery:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": _waba_id(channel), "changes": [{"value": value, "field": field}]}],
        }
        # Meta sends compact JSON with non-ASCII escaped (\u00e9): the signature covers exactly
        # these bytes.
        body = json.dumps(payload, separators=(",", ":")).encode()
        signature = "sha256=" + hmac_sha256_hex(channel.secrets.get("signing_secret", ""), body)
        return Delivery(
            url=channel.webhook_url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "facebookexternalua",
                "X-Hub-Signature-256": signature,
            },
        )

    # --- the send API ----------------------------------------------------------------------

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        async def messages(request: Request) -> JSONResponse:
            return SendApi(api).answer(
                request.path_params["phone_number_id"], request.headers, await request.body()
            )

        return [
            Route("/{phone_number_id}/messages", messages, methods=["POST"]),
            Route("/{version}/{phone_number_id}/messages", messages, methods=["POST"]),
        ]


def _contact(person: SimPerson) -> dict[str, Any]:
    return {"profile": {"name": person.name}, "wa_id": person.id}


def _digits(seed: str, n: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:n]


def _display_number(channel: SandboxChannel) -> str:
    """A stable made-up display number for the sandbox's phone number (US test range)."""
    return "1555" + _digits(channel.external_id, 7)


def _waba_id(channel: SandboxChannel) -> str:
    return "10" + _digits("waba" + channel.external_id, 13)


def _derived_id(*parts: str) -> str:
    """A wamid for a simulated event, the same for the same event (retries, duplicates)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18" + digest[:24]).decode()


FAKE = WhatsAppFake()
