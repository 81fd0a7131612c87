"""X's part of the sandbox: the webhooks X sends and the v2 send API X serves.

Deliveries use the Account Activity API format by default (``XFake("xaa")`` sends the X Activity
API envelopes instead), signed with the consumer secret exactly as X signs them. What X does not
deliver, the fake does not invent: no edit events, no delivery receipts, no unlike, no webhook for
a deleted DM, no opt-outs.

The send API, answering in X's shapes, is in ``fake_api.py``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.routing import BaseRoute

from bandeja.channels.sandbox.contract import (
    Delivery,
    SandboxApi,
    SandboxChannel,
    SentRecord,
    SimDelete,
    SimEcho,
    SimEvent,
    SimMessage,
    SimPerson,
    SimReaction,
    SimRead,
)
from bandeja.channels.x.fake_api import Recent, SendApi
from bandeja.channels.x.verify import SIGNATURE_HEADER, sign
from bandeja.core.channels.models import Platform

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Format = Literal["aaa", "xaa"]


# --- shapes ------------------------------------------------------------------------------------


def _millis(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def _v1_time(at: datetime) -> str:
    at = at.astimezone(UTC)
    return (
        f"{_DAYS[at.weekday()]} {_MONTHS[at.month - 1]} {at.day:02d} {at:%H:%M:%S} +0000 {at.year}"
    )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _avatar(user_id: str) -> str:
    return f"https://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg"


def _brand_handle(channel: SandboxChannel) -> str:
    """The account's @handle as the simulated customers write it (see sandbox/traffic.py)."""
    word = (channel.name.split() or ["brand"])[0].lstrip("@").lower()
    return "".join(c for c in word if c.isalnum() or c == "_") or "brand"


def _v1_user(person: SimPerson) -> dict[str, Any]:
    return {
        "id": person.id,
        "id_str": person.id,
        "name": person.name,
        "screen_name": person.handle,
        "protected": False,
        "verified": False,
        "profile_image_url_https": _avatar(person.id),
        "receives_your_dm": person.accepts_dms,
    }


def _v1_account(channel: SandboxChannel) -> dict[str, Any]:
    return {
        "id": channel.external_id,
        "id_str": channel.external_id,
        "name": channel.name,
        "screen_name": _brand_handle(channel),
        "protected": False,
        "verified": True,
        "profile_image_url_https": _avatar(channel.external_id),
    }


def _v2_user(person: SimPerson) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "username": person.handle,
        "profile_image_url": _avatar(person.id),
        "protected": False,
        "verified": False,
        "receives_your_dm": person.accepts_dms,
    }


def _v2_account(channel: SandboxChannel) -> dict[str, Any]:
    return {
        "id": channel.external_id,
        "name": channel.name,
        "username": _brand_handle(channel),
        "profile_image_url": _avatar(channel.external_id),
        "protected": False,
        "verified": True,
    }


def _mention_entity(text: str, user_id: str, fallback: str) -> dict[str, Any]:
    """Where ``@handle`` sits in the text (X gives code point offsets)."""
    start = text.find("@")
    end = start + 1
    while start >= 0 and end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    if start < 0:
        return {"start": 0, "end": 0, "username": fallback, "id": user_id}
    return {"start": start, "end": end, "username": text[start + 1 : end], "id": user_id}


def _event_uuid(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return str(int.from_bytes(digest[:8], "big", signed=True))


def _media(attachment: dict[str, Any], n: int) -> dict[str, Any]:
    kind = {"image": "photo", "video": "video", "gif": "animated_gif"}.get(
        str(attachment.get("type", "image")), "photo"
    )
    url = str(attachment.get("url") or f"https://pbs.twimg.com/media/sandbox{n}.jpg")
    return {
        "id": 1700000000000000000 + n,
        "id_str": str(1700000000000000000 + n),
        "media_url_https": url,
        "url": "https://t.co/sandbox",
        "type": kind,
    }


def _dm_event(
    message_id: str,
    at: datetime,
    sender: str,
    recipient: str,
    text: str,
    attachments: list[dict[str, Any]],
    conversation: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": text,
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
    }
    if attachments:
        data["attachment"] = {"type": "media", "media": _media(attachments[0], 1)}
    create: dict[str, Any] = {
        "target": {"recipient_id": recipient},
        "sender_id": sender,
        "message_data": data,
    }
    event: dict[str, Any] = {
        "type": "message_create",
        "id": message_id,
        "created_timestamp": _millis(at),
        "message_create": create,
    }
    if conversation:
        event["dm_conversation_id"] = conversation
    return event


class XFake:
    platform = Platform.x

    def __init__(self, fmt: Format = "aaa") -> None:
        self.fmt: Format = fmt
        self._api: SandboxApi | None = None
        self._authors: Recent = Recent()  # post id → SimPerson who wrote it (posts we sent)
        self.send_api = SendApi()
        self._echo_posts: Recent = Recent()  # our post id → the post it answers
        self._echo_groups: Recent = Recent()  # our DM id → its group conversation

    # --- webhooks --------------------------------------------------------------------------

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        body = self._xaa(channel, event) if self.fmt == "xaa" else self._aaa(channel, event)
        if body is None:
            return []
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(channel.secrets.get("signing_secret", ""), raw),
        }
        return [Delivery(url=channel.webhook_url, headers=headers, body=raw)]

    def _aaa(self, channel: SandboxChannel, event: SimEvent) -> dict[str, Any] | None:
        me = channel.external_id
        envelope: dict[str, Any] = {"for_user_id": me}
        match event:
            case SimMessage(kind="dm"):
                envelope["direct_message_events"] = [
                    _dm_event(
                        event.message_id,
                        event.at,
                        event.person.id,
                        me,
                        event.text,
                        event.attachments,
                    )
                ]
                envelope["users"] = {
                    event.person.id: _v1_user(event.person),
                    me: _v1_account(channel),
                }
            case SimMessage():
                envelope["tweet_create_events"] = [self._v1_post(channel, event)]
            case SimEcho() if event.message_id in self._echo_posts:
                envelope["tweet_create_events"] = [self._v1_echo_post(channel, event)]
            case SimEcho():
                envelope["direct_message_events"] = [
                    _dm_event(
                        event.message_id,
                        event.at,
                        me,
                        event.person.id,
                        event.text,
                        [],
                        self._echo_groups.get(event.message_id),
                    )
                ]
                envelope["users"] = {
                    event.person.id: _v1_user(event.person),
                    me: _v1_account(channel),
                }
            case SimReaction(reaction=str()):
                # X has one reaction, the like, and it is for posts; an unlike is not delivered.
                envelope["favorite_events"] = [
                    {
                        "id": hashlib.md5(
                            f"{event.person.id}{event.message_id}".encode(), usedforsecurity=False
                        ).hexdigest(),
                        "created_at": _v1_time(event.at),
                        "timestamp_ms": int(_millis(event.at)),
                        "favorited_status": {
                            "created_at": _v1_time(event.at),
                            "id_str": event.message_id,
                            "text": "",
                            "user": _v1_account(channel),
                        },
                        "user": _v1_user(event.person),
                    }
                ]
            case SimDelete(kind="mention" | "comment"):
                envelope["tweet_delete_events"] = [
                    {
                        "status": {"id": event.message_id, "user_id": event.person.id},
                        "timestamp_ms": _millis(event.at),
                    }
                ]
            case SimRead(status="read"):
                envelope["direct_message_mark_read_events"] = [
                    {
                        "created_timestamp": _millis(event.at),
                        "sender_id": event.person.id,
                        "target": {"recipient_id": me},
                        "last_read_event_id": event.message_id or "",
                    }
                ]
                envelope["users"] = {
                    event.person.id: _v1_user(event.person),
                    me: _v1_account(channel),
                }
            case _:
                return None
        return envelope

    def _v1_post(self, channel: SandboxChannel, message: SimMessage) -> dict[str, Any]:
        me = channel.external_id
        self._authors[message.message_id] = message.person
        mention = _mention_entity(message.text, me, _brand_handle(channel))
        replied = (
            message.reply_to_message_id
            or message.parent_id
            or (message.post_id if message.kind == "comment" else None)
        )
        tweet: dict[str, Any] = {
            "created_at": _v1_time(message.at),
            "id_str": message.message_id,
            "text": message.text,
            "display_text_range": [0, len(message.text)],
            "source": '<a href="https://mobile.x.com" rel="nofollow">X Web App</a>',
            "truncated": False,
            "in_reply_to_status_id_str": replied,
            "in_reply_to_user_id_str": me if replied else None,
            "in_reply_to_screen_name": _brand_handle(channel) if replied else None,
            "user": _v1_user(message.person),
            "is_quote_status": False,
            "entities": {
                "hashtags": [],
                "urls": [],
                "symbols": [],
                "user_mentions": [
                    {
                        "screen_name": mention["username"],
                        "name": channel.name,
                        "id_str": me,
                        "indices": [mention["start"], mention["end"]],
                    }
                ],
            },
            "timestamp_ms": _millis(message.at),
        }
        if message.attachments:
            media = [_media(a, n) for n, a in enumerate(message.attachments, 1)]
            tweet["extended_entities"] = {"media": media}
        return tweet

    def _v1_echo_post(self, channel: SandboxChannel, echo: SimEcho) -> dict[str, Any]:
        """Our reply as X shows it: the replied-to person's @handle comes first, outside the
        displayed range."""
        replied = self._echo_posts[echo.message_id]
        author = self._authors.get(replied)
        prefix = f"@{author.handle} " if author else ""
        text = prefix + echo.text
        return {
            "created_at": _v1_time(echo.at),
            "id_str": echo.message_id,
            "text": text,
            "display_text_range": [len(prefix), len(text)],
            "truncated": False,
            "in_reply_to_status_id_str": replied,
            "in_reply_to_user_id_str": author.id if author else None,
            "in_reply_to_screen_name": author.handle if author else None,
            "user": _v1_account(channel),
            "is_quote_status": False,
            "entities": {
                "hashtags": [],
                "urls": [],
                "symbols": [],
                "user_mentions": [
                    {
                        "screen_name": author.handle,
                        "name": author.name,
                        "id_str": author.id,
                        "indices": [0, len(prefix) - 1],
                    }
                ]
                if author
                else [],
            },
            "timestamp_ms": _millis(echo.at),
        }

    def _xaa(self, channel: SandboxChannel, event: SimEvent) -> dict[str, Any] | None:
        me = channel.external_id
        includes: dict[str, Any] | None
        match event:
            case SimMessage(kind="dm"):
                kind, tag = "dm.received", "dm-inbound"
                payload: dict[str, Any] = {
                    "direct_message_events": [
                        _dm_event(
                            event.message_id,
                            event.at,
                            event.person.id,
                            me,
                            event.text,
                            event.attachments,
                        )
                    ],
                    "users": {
                        event.person.id: {"data": _v2_user(event.person)},
                        me: {"data": _v2_account(channel)},
                    },
                }
                includes = None
            case SimMessage():
                kind, tag, payload, includes = self._v2_post(channel, event)
            case SimEcho() if event.message_id not in self._echo_posts:
                kind, tag = "dm.sent", "dm-outbound"
                payload = {
                    "direct_message_events": [
                        _dm_event(
                            event.message_id,
                            event.at,
                            me,
                            event.person.id,
                            event.text,
                            [],
                            self._echo_groups.get(event.message_id),
                        )
                    ],
                    "users": {
                        event.person.id: {"data": _v2_user(event.person)},
                        me: {"data": _v2_account(channel)},
                    },
                }
                includes = None
            case SimReaction(reaction=str()):
                kind, tag = "like.create", "likes"
                payload = {
                    "id": _event_uuid("like", event.person.id, event.message_id),
                    "timestamp_ms": _millis(event.at),
                    "liked_tweet_author_id": me,
                    "liked_tweet_id": event.message_id,
                }
                includes = {"users": [_v2_user(event.person)]}
            case _:
                # XAA has no events for others' deletes, read receipts in a documented shape,
                # or echoes of posts (post.create is the account's own posts: not subscribed).
                return None
        data: dict[str, Any] = {
            "event_uuid": _event_uuid(kind, getattr(event, "message_id", "") or ""),
            "filter": {
                "user_id": me,
                **({"direction": "inbound"} if kind == "like.create" else {}),
            },
            "event_type": kind,
            "tag": tag,
            "payload": payload,
        }
        if includes is not None:
            data["includes"] = includes
        return {"data": data}

    def _v2_post(
        self, channel: SandboxChannel, message: SimMessage
    ) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        me = channel.external_id
        self._authors[message.message_id] = message.person
        replied = (
            message.reply_to_message_id
            or message.parent_id
            or (message.post_id if message.kind == "comment" else None)
        )
        post: dict[str, Any] = {
            "id": message.message_id,
            "text": message.text,
            "author_id": message.person.id,
            "created_at": _iso(message.at),
            "edit_history_tweet_ids": [message.message_id],
            "conversation_id": (message.post_id if replied and message.post_id else replied)
            or message.message_id,
            "entities": {"mentions": [_mention_entity(message.text, me, _brand_handle(channel))]},
            "lang": message.person.language,
            "reply_settings": "everyone",
        }
        tweets = [post]
        if replied:
            post["in_reply_to_user_id"] = me
            post["referenced_tweets"] = [{"type": "replied_to", "id": replied}]
            if message.post_text:
                tweets.append({"id": replied, "text": message.post_text, "author_id": me})
        kind, tag = (
            ("post.reply.create", "replies") if replied else ("post.mention.create", "mentions")
        )
        users = [_v2_user(message.person), _v2_account(channel)]
        return kind, tag, post, {"users": users, "tweets": tweets}

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        """X delivers the account's own DMs and posts back to its webhook."""
        reply = sent.payload.get("reply")
        if isinstance(reply, dict) and reply.get("in_reply_to_tweet_id"):
            replied = str(reply["in_reply_to_tweet_id"])
            self._echo_posts[sent.message_id] = replied
            person = self._authors.get(replied) or self._someone(replied)
            return [SimEcho(person=person, message_id=sent.message_id, text=sent.text, at=sent.at)]
        if sent.recipient_id in self.send_api.groups:
            self._echo_groups[sent.message_id] = sent.recipient_id
            participants = self.send_api.groups[sent.recipient_id]
            person = (
                self._person(participants[0]) if participants else self._someone(sent.recipient_id)
            )
        else:
            person = self._person(sent.recipient_id)
        return [SimEcho(person=person, message_id=sent.message_id, text=sent.text, at=sent.at)]

    def _person(self, person_id: str) -> SimPerson:
        found = self._api.person(Platform.x, person_id) if self._api else None
        return found or self._someone(person_id)

    @staticmethod
    def _someone(person_id: str) -> SimPerson:
        return SimPerson(
            id=person_id, name=f"X user {person_id}", handle=f"user{person_id}", language="en"
        )

    # --- the send API ----------------------------------------------------------------------

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        self._api = api
        return self.send_api.routes(api)


FAKE = XFake()
