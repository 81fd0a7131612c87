"""A verified ``object: "page"`` webhook body → the core's platform events.

One body may carry several entries (Meta batches up to 1,000), each with several ``messaging``
events (Messenger), ``standby`` events (handover protocol: another app owns the thread) and
``changes`` (Page feed: comments). Every item becomes an event or an ``Ignored(reason)``;
nothing here raises except for a body that is not a JSON object at all.

Threads: a DM conversation per person (``thread_key`` = the PSID); comments are grouped in
``feed.py`` (one conversation per top-level comment).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bandeja.channels.base import ChannelConfig
from bandeja.channels.messenger import feed
from bandeja.channels.messenger.shape import ident, items, obj, received, text, when
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MarketingPreference,
    MessageDeleted,
    MessageEdited,
    Person,
    PlatformEvent,
    ReactionChanged,
    ReadUpTo,
    StatusChanged,
    Thread,
)

# Meta's reaction names (``reaction.reaction``) when a reaction comes without its emoji.
REACTION_EMOJI = {
    "like": "👍",
    "love": "❤️",
    "smile": "😆",
    "haha": "😆",
    "wow": "😮",
    "sad": "😢",
    "sorry": "😢",
    "angry": "😠",
    "anger": "😠",
    "dislike": "👎",
    "care": "🥰",
}
# Handover protocol: which app owns a conversation changed. Nothing for the inbox to show.
_HANDOVER = ("pass_thread_control", "take_thread_control", "request_thread_control", "app_roles")
_ENVELOPE = {"sender", "recipient", "timestamp"}


def parse(channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("a Messenger webhook body is a JSON object")
    if data.get("object") != "page":
        return [Ignored(f"unsupported:object:{str(data.get('object'))[:40]}")]
    entries = data.get("entry")
    if not isinstance(entries, list):
        return [Ignored("malformed:no_entry")]
    events: list[PlatformEvent] = []
    for entry in entries:
        events.extend(_entry(channel, entry))
    return events


def _entry(channel: ChannelConfig, entry: Any) -> list[PlatformEvent]:
    entry = obj(entry)
    if entry is None:
        return [Ignored("malformed:entry")]
    page_id = ident(entry.get("id")) or channel.external_id
    if page_id != channel.external_id:
        # One Meta app has one webhook URL for every Page it serves; an entry for another Page
        # must not land in this Page's inbox.
        return [Ignored("other_page")]
    at = when(entry.get("time"))
    events: list[PlatformEvent] = []
    for item in items(entry.get("messaging")):
        events.extend(messaging(item, page_id, at))
    for item in items(entry.get("standby")):
        events.append(_standby(item))
    for change in items(entry.get("changes")):
        events.extend(feed.change(change, page_id, at))
    if not events:
        return [Ignored("empty_entry")]
    return events


def _standby(item: Any) -> Ignored:
    """Another app owns this thread (handover protocol); its owner answers it, not us."""
    item = obj(item) or {}
    kind = next((k for k in item if k not in _ENVELOPE), "event")
    if kind == "message" and (obj(item.get("message")) or {}).get("is_echo"):
        kind = "echo"
    return Ignored(f"standby:{kind}"[:60])


def messaging(item: Any, page_id: str, fallback: datetime | None) -> list[PlatformEvent]:
    """One ``entry.messaging[]`` event."""
    item = obj(item)
    if item is None:
        return [Ignored("malformed:messaging")]
    sender = ident((obj(item.get("sender")) or {}).get("id"))
    recipient = ident((obj(item.get("recipient")) or {}).get("id"))
    at = when(item.get("timestamp")) or fallback
    if "message" in item:
        return _message(item.get("message"), sender, recipient, page_id, at)
    if "message_edit" in item:
        return [_edit(item.get("message_edit"), at)]
    if "delivery" in item:
        return _delivery(item.get("delivery"), sender, at)
    if "read" in item:
        return [_read(item.get("read"), sender)]
    if "reaction" in item:
        return [_reaction(item.get("reaction"), sender, at)]
    if "postback" in item:
        return [_postback(item.get("postback"), sender, at)]
    if "optin" in item:
        return [_optin(item.get("optin"), sender, at)]
    if "referral" in item:
        # A person opened an existing thread from an m.me link or an ad, without writing: the
        # referral comes again inside their first message, which is what the inbox keeps.
        return [Ignored("referral")]
    for key in _HANDOVER:
        if key in item:
            return [Ignored(f"handover:{key}")]
    key = next((k for k in item if k not in _ENVELOPE), "nothing")
    return [Ignored(f"unsupported:{key}"[:80])]


def _message(
    value: Any, sender: str | None, recipient: str | None, page_id: str, at: datetime | None
) -> list[PlatformEvent]:
    message = obj(value)
    if message is None:
        return [Ignored("malformed:message")]
    mid = ident(message.get("mid"))
    if mid is None or at is None:
        return [Ignored("malformed:message")]
    body = text(message.get("text")) or ""
    attachments = attachments_of(message.get("attachments"))
    if message.get("is_echo"):
        # Sent by the Page: from Bandeja (``metadata`` = "bandeja:<key>") or another app / the
        # Page inbox. The thread is the recipient's.
        if recipient is None:
            return [Ignored("malformed:echo")]
        metadata = message.get("metadata")
        return [
            EchoReceived(
                thread=Thread(kind=Kind.dm, key=recipient),
                recipient=Person(external_id=recipient),
                external_id=mid,
                text=body,
                sent_at=at,
                attachments=attachments,
                metadata=metadata if isinstance(metadata, str) else None,
            )
        ]
    if message.get("is_deleted"):
        return [MessageDeleted(external_id=mid, at=at)]
    if sender is None:
        return [Ignored("malformed:message")]
    if sender == page_id:
        return [Ignored("message_from_page")]
    if message.get("is_unsupported"):
        attachments.append({"type": "unsupported"})
    if not body and not attachments:
        return [Ignored("empty_message")]
    reply_to = ident((obj(message.get("reply_to")) or {}).get("mid"))
    return [
        received(
            thread=Thread(kind=Kind.dm, key=sender),
            sender=Person(external_id=sender),
            external_id=mid,
            text=body,
            sent_at=at,
            attachments=attachments,
            reply_to_external_id=reply_to,
            extra=message_extra(message),
        )
    ]


def message_extra(message: dict[str, Any]) -> dict[str, Any]:
    """What a message carries besides its content: the quick-reply payload (the text is the
    button's title) and the referral of a message sent from an ad or m.me link."""
    extra: dict[str, Any] = {}
    payload = (obj(message.get("quick_reply")) or {}).get("payload")
    if isinstance(payload, str):
        extra["quick_reply_payload"] = payload
    referral = obj(message.get("referral"))
    if referral:
        extra["referral"] = referral
    return extra


def attachments_of(value: Any) -> list[dict[str, Any]]:
    """Messenger attachments → ``{"type", "url", ...}`` (what ``Message.attachments`` keeps)."""
    found: list[dict[str, Any]] = []
    for raw in items(value):
        attachment = obj(raw)
        if attachment is None:
            continue
        kind = text(attachment.get("type")) or "file"
        payload = obj(attachment.get("payload")) or {}
        out: dict[str, Any] = {"type": kind}
        url = text(payload.get("url")) or text(attachment.get("url")) or text(attachment.get("URL"))
        if url:
            out["url"] = url
        title = text(attachment.get("title")) or text(payload.get("title"))
        if title:
            out["name"] = title
        sticker = ident(payload.get("sticker_id"))
        if sticker:
            out["sticker_id"] = sticker
        if kind == "template" and text(payload.get("template_type")):
            out["template_type"] = payload["template_type"]
        coordinates = obj(payload.get("coordinates"))
        if kind == "location" and coordinates:
            out["lat"], out["long"] = coordinates.get("lat"), coordinates.get("long")
        found.append(out)
    return found


def _edit(value: Any, at: datetime | None) -> PlatformEvent:
    edit = obj(value) or {}
    mid, body = ident(edit.get("mid")), text(edit.get("text"))
    if mid is None or body is None or at is None:
        return Ignored("malformed:message_edit")
    return MessageEdited(external_id=mid, text=body, at=at)


def _delivery(value: Any, sender: str | None, at: datetime | None) -> list[PlatformEvent]:
    """Delivered: the listed mids, and (``watermark``) everything sent before that moment."""
    delivery = obj(value) or {}
    watermark = when(delivery.get("watermark"))
    events: list[PlatformEvent] = []
    stamp = watermark or at
    if stamp is not None:
        for raw in items(delivery.get("mids")):
            mid = ident(raw)
            if mid:
                events.append(StatusChanged(external_id=mid, status="delivered", at=stamp))
    if watermark is not None and sender is not None:
        events.append(ReadUpTo(person_external_id=sender, watermark=watermark, status="delivered"))
    return events or [Ignored("malformed:delivery")]


def _read(value: Any, sender: str | None) -> PlatformEvent:
    watermark = when((obj(value) or {}).get("watermark"))
    if watermark is None or sender is None:
        return Ignored("malformed:read")
    return ReadUpTo(person_external_id=sender, watermark=watermark)


def _reaction(value: Any, sender: str | None, at: datetime | None) -> PlatformEvent:
    reaction = obj(value) or {}
    mid = ident(reaction.get("mid"))
    if mid is None or sender is None or at is None:
        return Ignored("malformed:reaction")
    if reaction.get("action") == "unreact":
        return ReactionChanged(external_id=mid, person_external_id=sender, reaction=None, at=at)
    name = text(reaction.get("reaction")) or ""
    emoji = text(reaction.get("emoji")) or REACTION_EMOJI.get(name) or name or "👍"
    return ReactionChanged(external_id=mid, person_external_id=sender, reaction=emoji, at=at)


def _postback(value: Any, sender: str | None, at: datetime | None) -> PlatformEvent:
    """A button press (postback button, Get Started, persistent menu): the button's title is
    what the person "said"; its payload is kept with the message."""
    postback = obj(value) or {}
    if sender is None or at is None:
        return Ignored("malformed:postback")
    title = text(postback.get("title"))
    payload = text(postback.get("payload"))
    body = title or payload
    if not body:
        return Ignored("malformed:postback")
    # Older postbacks have no mid: the person and the moment identify the press.
    mid = ident(postback.get("mid")) or f"postback:{sender}:{int(at.timestamp() * 1000)}"
    return received(
        thread=Thread(kind=Kind.dm, key=sender),
        sender=Person(external_id=sender),
        external_id=mid,
        text=body,
        sent_at=at,
        extra=postback_extra(postback),
    )


def postback_extra(postback: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    payload = text(postback.get("payload"))
    if payload is not None:
        extra["postback_payload"] = payload
    referral = obj(postback.get("referral"))
    if referral:
        extra["referral"] = referral
    return extra


def _optin(value: Any, sender: str | None, at: datetime | None) -> PlatformEvent:
    """Marketing messages ("notification messages") consent: an opt-in, or the person pressing
    Stop / Resume notifications. Other opt-ins (Send to Messenger and checkbox plugins, one-time
    notification requests) are not marketing consent."""
    optin = obj(value) or {}
    kind = text(optin.get("type"))
    if kind != "notification_messages":
        return Ignored(f"optin:{kind or 'plugin'}"[:60])
    if sender is None or at is None:
        # Plugin opt-ins identify the person by ``user_ref`` only, before any PSID exists.
        return Ignored("optin:no_psid")
    status = text(optin.get("notification_messages_status"))
    opted_in = status != "STOP NOTIFICATIONS"
    topic = text(optin.get("title")) or text(optin.get("payload"))
    detail = "notification_messages" + (f": {topic}" if topic else "")
    return MarketingPreference(
        person=Person(external_id=sender), opted_in=opted_in, at=at, detail=detail[:200]
    )
