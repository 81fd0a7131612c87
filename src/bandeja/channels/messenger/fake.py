"""Messenger's part of the sandbox: Meta's webhook bodies for simulated events, signed as Meta
signs them, what Meta reports after a send, and (``fake_graph.py``) the Graph API paths Bandeja
calls, answering as Meta does.

Webhooks (``object: "page"``): DMs, echoes, reactions, edits, deliveries, reads and opt-ins in
``entry[].messaging[]`` (times in milliseconds); comments in ``entry[].changes[]`` with
``field: "feed"`` (times in seconds). Bodies are compact JSON with non-ASCII escaped, as Meta
sends them, signed ``X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, body)>`` (plus the
legacy SHA-1 ``X-Hub-Signature``).

What Messenger does not send, the fake does not either: no webhook when a person unsends a DM
(``SimDelete`` of a DM → nothing), no "sent" or "failed" statuses (the echo says "sent"), no
post text in comment notifications.

The fake remembers the comments it delivered (``fake_memory.py``) so that later events about
them (edits, reactions, replies, echoes of the Page's replies) carry the same post and thread,
as Facebook's would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from starlette.routing import BaseRoute

from bandeja.channels.base import hmac_sha256_hex
from bandeja.channels.messenger.fake_graph import GraphApi
from bandeja.channels.messenger.fake_memory import Comment, Memory
from bandeja.channels.messenger.shape import millis
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
from bandeja.core.channels.models import Platform

APP_ID = 1517776481860111  # the app_id Meta puts in echoes of messages sent through the API
# The sandbox's people react with emoji; Messenger also names the reaction.
_REACTION_NAMES = {
    "❤️": "love",
    "😂": "smile",
    "😆": "smile",
    "😮": "wow",
    "😢": "sad",
    "😠": "angry",
    "👍": "like",
    "👎": "dislike",
}
_FEED_REACTIONS = {
    "❤️": "love",
    "😂": "haha",
    "😆": "haha",
    "😮": "wow",
    "😢": "sad",
    "😠": "angry",
    "👍": "like",
    "🥰": "care",
}


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


def _anonymous(person_id: str) -> SimPerson:
    return SimPerson(id=person_id, name="", handle="", language="en")


class MessengerFake:
    platform = Platform.messenger

    def __init__(self) -> None:
        self._api: SandboxApi | None = None
        self.memory = Memory()

    def reset(self) -> None:
        """Forget every comment, edit and private reply (tests)."""
        self.memory.clear()

    # --- webhooks -----------------------------------------------------------------------------

    def _delivery(self, channel: SandboxChannel, payload: dict[str, Any]) -> Delivery:
        body = _body(payload)
        secret = channel.secrets.get("signing_secret", "")
        sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return Delivery(
            url=channel.webhook_url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "facebookexternalua",
                "X-Hub-Signature": f"sha1={sha1}",
                "X-Hub-Signature-256": f"sha256={hmac_sha256_hex(secret, body)}",
            },
        )

    def _messaging(
        self, channel: SandboxChannel, item: dict[str, Any], at: datetime
    ) -> list[Delivery]:
        return [
            self._delivery(
                channel,
                {
                    "object": "page",
                    "entry": [{"id": channel.external_id, "time": millis(at), "messaging": [item]}],
                },
            )
        ]

    def _feed(self, channel: SandboxChannel, value: dict[str, Any], at: datetime) -> list[Delivery]:
        return [
            self._delivery(
                channel,
                {
                    "object": "page",
                    "entry": [
                        {
                            "id": channel.external_id,
                            "time": int(at.timestamp()),
                            "changes": [{"value": value, "field": "feed"}],
                        }
                    ],
                },
            )
        ]

    def _from_person(
        self, channel: SandboxChannel, person: SimPerson, at: datetime
    ) -> dict[str, Any]:
        return {
            "sender": {"id": person.id},
            "recipient": {"id": channel.external_id},
            "timestamp": millis(at),
        }

    def _comment_value(
        self, channel: SandboxChannel, comment_id: str, comment: Comment, verb: str, at: datetime
    ) -> dict[str, Any]:
        author = (
            {"id": channel.external_id, "name": channel.name}
            if comment.author is None
            else {"id": comment.author.id, "name": comment.author.name}
        )
        return {
            "from": author,
            "post": {
                "status_type": "added_photos",
                "is_published": True,
                "updated_time": at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "permalink_url": f"https://www.facebook.com/{comment.post_id}",
                "promotion_status": "inactive",
                "id": comment.post_id,
            },
            "post_id": comment.post_id,
            "comment_id": comment_id,
            "created_time": int(comment.at.timestamp()),
            "item": "comment",
            "parent_id": comment.top_level_id or comment.post_id,
            "verb": verb,
        }

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        match event:
            case SimMessage(kind="dm"):
                return self._messaging(channel, self._dm(channel, event), event.at)
            case SimMessage(kind="comment"):
                return self._new_comment(channel, event)
            case SimMessage():
                return []  # Page mentions are not part of this connector
            case SimEcho():
                return self._echo(channel, event)
            case SimReaction():
                return self._reaction(channel, event)
            case SimEdit():
                return self._edit(channel, event)
            case SimDelete():
                comment = self.memory.comments.get(event.message_id)
                if comment is None:
                    return []  # Messenger sends nothing when a person unsends a DM
                value = self._comment_value(channel, event.message_id, comment, "remove", event.at)
                return self._feed(channel, value, event.at)
            case SimRead(status="delivered"):
                delivery: dict[str, Any] = {"watermark": millis(event.at)}
                if event.message_id:
                    delivery["mids"] = [event.message_id]
                return self._messaging(
                    channel,
                    {**self._from_person(channel, event.person, event.at), "delivery": delivery},
                    event.at,
                )
            case SimRead():
                return self._messaging(
                    channel,
                    {
                        **self._from_person(channel, event.person, event.at),
                        "read": {"watermark": millis(event.at)},
                    },
                    event.at,
                )
            case SimStatus(status="delivered"):
                return self._messaging(
                    channel,
                    {
                        **self._from_person(channel, event.person, event.at),
                        "delivery": {"mids": [event.message_id], "watermark": millis(event.at)},
                    },
                    event.at,
                )
            case SimStatus(status="read"):
                return self._messaging(
                    channel,
                    {
                        **self._from_person(channel, event.person, event.at),
                        "read": {"watermark": millis(event.at)},
                    },
                    event.at,
                )
            case SimStatus():
                return []  # no "sent" / "failed" webhooks on Messenger
            case SimOptOut():
                return self._messaging(channel, self._optin(channel, event), event.at)
        return []

    def _dm(self, channel: SandboxChannel, event: SimMessage) -> dict[str, Any]:
        message: dict[str, Any] = {"mid": event.message_id}
        if event.text:
            message["text"] = event.text
        if event.attachments:
            message["attachments"] = [
                {"type": a.get("type", "file"), "payload": {"url": a.get("url", "")}}
                for a in event.attachments
            ]
        if event.reply_to_message_id:
            message["reply_to"] = {"mid": event.reply_to_message_id, "is_self_reply": False}
        return {**self._from_person(channel, event.person, event.at), "message": message}

    def _new_comment(self, channel: SandboxChannel, event: SimMessage) -> list[Delivery]:
        post_id = event.post_id or f"{channel.external_id}_sandboxpost"
        top_level = None
        if event.parent_id:
            parent = self.memory.comments.get(event.parent_id)
            top_level = (parent.top_level_id if parent else None) or event.parent_id
        comment = Comment(post_id=post_id, top_level_id=top_level, author=event.person, at=event.at)
        self.memory.remember(event.message_id, comment)
        value = self._comment_value(channel, event.message_id, comment, "add", event.at)
        value["message"] = event.text
        for attachment in event.attachments:
            if attachment.get("type") in ("image", "video") and attachment.get("url"):
                value["photo" if attachment["type"] == "image" else "video"] = attachment["url"]
        return self._feed(channel, value, event.at)

    def _echo(self, channel: SandboxChannel, event: SimEcho) -> list[Delivery]:
        comment = self.memory.comments.get(event.message_id)
        if comment is not None:  # the Page's reply under a comment
            value = self._comment_value(channel, event.message_id, comment, "add", event.at)
            value["message"] = event.text
            return self._feed(channel, value, event.at)
        message: dict[str, Any] = {
            "mid": event.message_id,
            "is_echo": True,
            "app_id": APP_ID,
            "text": event.text,
        }
        if event.metadata:
            message["metadata"] = event.metadata
        return self._messaging(
            channel,
            {
                "sender": {"id": channel.external_id},
                "recipient": {"id": event.person.id},
                "timestamp": millis(event.at),
                "message": message,
            },
            event.at,
        )

    def _reaction(self, channel: SandboxChannel, event: SimReaction) -> list[Delivery]:
        comment = self.memory.comments.get(event.message_id)
        if comment is not None:
            value: dict[str, Any] = {
                "from": {"id": event.person.id, "name": event.person.name},
                "post_id": comment.post_id,
                "comment_id": event.message_id,
                "parent_id": comment.top_level_id or comment.post_id,
                "created_time": int(event.at.timestamp()),
                "item": "reaction",
                "verb": "add" if event.reaction else "remove",
            }
            if event.reaction:
                value["reaction_type"] = _FEED_REACTIONS.get(event.reaction, "like")
            return self._feed(channel, value, event.at)
        reaction: dict[str, Any] = {"mid": event.message_id}
        if event.reaction:
            reaction.update(
                reaction=_REACTION_NAMES.get(event.reaction, "other"),
                emoji=event.reaction,
                action="react",
            )
        else:
            reaction["action"] = "unreact"
        return self._messaging(
            channel,
            {**self._from_person(channel, event.person, event.at), "reaction": reaction},
            event.at,
        )

    def _edit(self, channel: SandboxChannel, event: SimEdit) -> list[Delivery]:
        comment = self.memory.comments.get(event.message_id)
        if comment is not None:
            value = self._comment_value(channel, event.message_id, comment, "edited", event.at)
            value["message"] = event.text
            return self._feed(channel, value, event.at)
        return self._messaging(
            channel,
            {
                **self._from_person(channel, event.person, event.at),
                "message_edit": {
                    "mid": event.message_id,
                    "text": event.text,
                    "num_edit": self.memory.edited(event.message_id),
                },
            },
            event.at,
        )

    def _optin(self, channel: SandboxChannel, event: SimOptOut) -> dict[str, Any]:
        optin: dict[str, Any] = {
            "type": "notification_messages",
            "payload": "bandeja-sandbox-offers",
            "notification_messages_token": f"nmt-{event.person.id}",
            "notification_messages_frequency": "DAILY",
            "notification_messages_timezone": "Europe/Madrid",
            "token_expiry_timestamp": millis(event.at + timedelta(days=180)),
            "user_token_status": "NOT_REFRESHED",
            "title": "Offers and news",
        }
        if not event.opted_in:
            optin["notification_messages_status"] = "STOP NOTIFICATIONS"
        return {**self._from_person(channel, event.person, event.at), "optin": optin}

    # --- what the platform reports after a send ---------------------------------------------------

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        person = self._person(sent.recipient_id)
        if "recipient" not in sent.payload:  # a public reply to a comment
            return [SimEcho(person=person, message_id=sent.message_id, text=sent.text, at=sent.at)]
        message = sent.payload.get("message") or {}
        metadata = message.get("metadata") if isinstance(message, dict) else None
        return [
            SimEcho(
                person=person,
                message_id=sent.message_id,
                text=sent.text,
                at=sent.at,
                metadata=metadata if isinstance(metadata, str) else None,
            ),
            SimStatus(
                person=person,
                message_id=sent.message_id,
                status="delivered",
                at=sent.at + timedelta(seconds=1),
            ),
            SimRead(person=person, at=sent.at + timedelta(seconds=5)),
        ]

    def _person(self, person_id: str) -> SimPerson:
        found = self._api.person(self.platform, person_id) if self._api is not None else None
        return found or _anonymous(person_id)

    # --- the Graph API ----------------------------------------------------------------------------

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        self._api = api
        return GraphApi(self.memory, api).routes()


FAKE = MessengerFake()
