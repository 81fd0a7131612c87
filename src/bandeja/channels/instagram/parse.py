"""Instagram webhook bodies → the core's platform events.

One body (``object: "instagram"``) carries ``entry[]``, one per professional account, each with
  - ``messaging[]``: DMs and what happens to them (``message`` incl. echoes, unsends and
    unsupported ones, ``message_edit``, ``reaction``, ``read``, ``postback``, ``referral``,
    handover), or ``standby[]`` when another app controls the thread;
  - ``changes[]``: ``comments`` / ``live_comments`` on the account's media, ``mentions`` of the
    account elsewhere, ``story_insights``; the App Dashboard's "Test" button also sends messaging
    events here (``field: "messages"`` with the messaging item as ``value``).

Threads (``Conversation.thread_key``):
  - DMs: the person's Instagram-scoped id (IGSID);
  - comments: the top-level comment (``parent_id`` of a reply, else the comment's own id), which is
    also where a public reply goes (Instagram nests one level only);
  - mentions: ``<media id>_<comment id>`` for a mention in a comment (the reply API needs both, and
    a send request carries only the thread key), the media id for a mention in a caption.

Everything here is hostile input: every shape becomes an event or an ``Ignored(reason)``; only a
body that is not a JSON object (or a list of them) raises ``ValueError``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bandeja.channels.base import ChannelConfig
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    Person,
    PlatformEvent,
    ReactionChanged,
    ReadUpTo,
    StatusChanged,
    Thread,
)

# A "like" (the heart button in the Instagram app) arrives as an attachment with no URL.
LIKE_HEART = "\u2764\ufe0f"
# The attachment type of a mention whose text has not been fetched (see ``expand.py``).
MENTION = "mention"
MENTION_SUBJECT = "Instagram mention"

# ``changes[].field`` values whose ``value`` is a messaging item (sender, recipient, timestamp, …).
_MESSAGING_FIELDS = frozenset(
    {
        "messages",
        "message_reactions",
        "messaging_seen",
        "message_edit",
        "messaging_postbacks",
        "messaging_referral",
        "messaging_handover",
        "messaging_optins",
        "standby",
    }
)
_HANDOVER_KEYS = (
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
)
_MEDIA_LABELS = {
    "FEED": "post",
    "REELS": "reel",
    "CLIPS": "reel",
    "STORY": "story",
    "AD": "ad",
    "IGTV": "video",
    "LIVE": "live video",
}
# Platform timestamps outside these years are garbage (or seconds read as milliseconds).
_YEARS = range(2005, 2200)


def parse(channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
    payload = json.loads(body)  # not JSON at all: ValueError, the delivery stays "failed"
    if isinstance(payload, dict):
        envelopes: list[Any] = [payload]
    elif isinstance(payload, list):  # Meta's docs show notifications wrapped in an array
        envelopes = payload
    else:
        raise ValueError("an Instagram webhook body is a JSON object")
    events: list[PlatformEvent] = []
    for envelope in envelopes:
        events.extend(_envelope(channel, envelope))
    return events or [Ignored("empty_delivery")]


def mention_thread_key(media_id: str, comment_id: str) -> str:
    """``<media>_<comment>`` for a comment mention, ``<media>`` for a caption mention."""
    return f"{media_id}_{comment_id}" if comment_id else media_id


def split_mention_thread_key(key: str) -> tuple[str, str | None]:
    """(media id, comment id or None) of a mention thread key (comment ids have no "_")."""
    media_id, sep, comment_id = key.rpartition("_")
    return (media_id, comment_id) if sep else (key, None)


# --- helpers -----------------------------------------------------------------------------------


def _str(value: object) -> str:
    """Ids and texts as strings; numbers become strings (ids are sometimes sent unquoted)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: object) -> str:
    return _str(_dict(value).get("id"))


def when(value: object) -> datetime | None:
    """A platform time: epoch milliseconds (messaging), epoch seconds (changes, ``entry.time``)
    or an ISO 8601 string (Graph API reads). None when absent or nonsense."""
    seconds: float
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            seconds = float(text)
        else:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                return None
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC) if parsed.year in _YEARS else None
    else:
        return None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        at = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return at if at.year in _YEARS else None


def _now() -> datetime:
    return datetime.now(UTC)


# --- envelope and entries ----------------------------------------------------------------------


def _envelope(channel: ChannelConfig, envelope: object) -> list[PlatformEvent]:
    if not isinstance(envelope, dict):
        return [Ignored("malformed_envelope")]
    # Deliveries for a Facebook Page ("page") or WhatsApp are not ours, even if signed alike.
    if envelope.get("object", "instagram") != "instagram":
        return [Ignored("object_not_instagram")]
    entries = envelope.get("entry")
    if not isinstance(entries, list):
        return [Ignored("malformed_envelope")]
    events: list[PlatformEvent] = []
    for entry in entries:
        events.extend(_entry(channel, entry))
    return events


def _entry(channel: ChannelConfig, entry: object) -> list[PlatformEvent]:
    if not isinstance(entry, dict):
        return [Ignored("malformed_entry")]
    account = _str(entry.get("id"))
    # A Meta app has one callback URL per object: events of another account subscribed to the
    # same app may land here; they must not be filed under this channel account.
    if account != channel.external_id:
        return [Ignored("entry_for_other_account")]
    entry_at = when(entry.get("time"))
    events: list[PlatformEvent] = []
    known = False
    messaging = entry.get("messaging")
    if isinstance(messaging, list):
        known = True
        for item in messaging:
            events.extend(_messaging(account, item, entry_at))
    standby = entry.get("standby")
    if isinstance(standby, list):
        # Another app (a bot, Meta's inbox) holds the thread; it answers, we don't.
        known = True
        events.extend(Ignored("standby") for _ in standby)
    changes = entry.get("changes")
    if isinstance(changes, list):
        known = True
        for change in changes:
            events.extend(_change(channel, account, change, entry_at))
    return events if known else [Ignored("empty_entry")]


# --- messaging ---------------------------------------------------------------------------------


def _messaging(account: str, item: object, fallback_at: datetime | None) -> list[PlatformEvent]:
    if not isinstance(item, dict):
        return [Ignored("malformed_messaging")]
    sender, recipient = _id(item.get("sender")), _id(item.get("recipient"))
    at = when(item.get("timestamp")) or fallback_at or _now()
    if "message" in item:
        return _message(account, sender, recipient, item["message"], at)
    if "message_edit" in item:
        return _edit(item["message_edit"], at)
    if "reaction" in item:
        return _reaction(sender, item["reaction"], at)
    if "read" in item:
        return _read(account, sender, item["read"], at)
    if "postback" in item:
        return _postback(account, sender, item["postback"], at)
    if "referral" in item:
        # An ig.me link or ad opened an existing thread; the message, if any, comes separately.
        return [Ignored("referral")]
    if any(key in item for key in _HANDOVER_KEYS):
        return [Ignored("handover")]
    if "optin" in item:
        return [Ignored("optin")]
    return [Ignored("unknown_messaging_event")]


def _message(
    account: str, sender: str, recipient: str, message: object, at: datetime
) -> list[PlatformEvent]:
    if not isinstance(message, dict):
        return [Ignored("malformed_message")]
    mid = _str(message.get("mid"))
    if not mid:
        return [Ignored("message_without_id")]
    if message.get("is_deleted"):
        # Unsent: the same mid as the message, which keeps that it existed but not its text.
        return [MessageDeleted(external_id=mid, at=at)]
    if message.get("is_unsupported"):
        # GIFs, stickers and other things the API does not expose.
        return [Ignored("unsupported_message")]
    text, attachments = _content(message)
    if not text and not attachments:
        return [Ignored("empty_message")]
    if message.get("is_echo") or (sender and sender == account):
        if not recipient or recipient == account:
            return [Ignored("malformed_echo")]
        return [
            EchoReceived(
                thread=Thread(kind=Kind.dm, key=recipient),
                recipient=Person(external_id=recipient),
                external_id=mid,
                text=text,
                sent_at=at,
                attachments=attachments,
                metadata=_str(message.get("metadata")) or None,
            )
        ]
    if not sender:
        return [Ignored("message_without_sender")]
    return [
        MessageReceived(
            thread=Thread(kind=Kind.dm, key=sender),
            sender=Person(external_id=sender),
            external_id=mid,
            text=text,
            sent_at=at,
            attachments=attachments,
            reply_to_external_id=_str(_dict(message.get("reply_to")).get("mid")) or None,
            extra=_message_extra(message),
        )
    ]


def _message_extra(message: dict[str, Any]) -> dict[str, Any]:
    """What a message carries besides its content: the quick reply tapped, the ad or link that
    started the thread."""
    extra: dict[str, Any] = {}
    quick_reply = _str(_dict(message.get("quick_reply")).get("payload"))
    if quick_reply:
        extra["quick_reply_payload"] = quick_reply[:1000]
    referral = _dict(message.get("referral"))
    if referral:
        ads = _dict(referral.get("ads_context_data"))
        extra["referral"] = _clean(
            {
                "source": _str(referral.get("source")),
                "type": _str(referral.get("type")),
                "ref": _str(referral.get("ref"))[:250],
                "ad_id": _str(referral.get("ad_id")),
                "ad_title": _str(ads.get("ad_title"))[:250],
            }
        )
    return extra


def _content(message: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = _str(message.get("text"))
    found: list[dict[str, Any]] = []
    raw = message.get("attachments")
    for attachment in raw if isinstance(raw, list) else []:
        if not isinstance(attachment, dict):
            continue
        kind = _str(attachment.get("type")) or "file"
        payload = _dict(attachment.get("payload"))
        if kind == "like_heart":
            text = text or LIKE_HEART
            continue
        found.append(_attachment(kind, payload))
    # Since late 2025 a shared post arrives twice: "share" and the richer "ig_post", same URL.
    post_urls = {a.get("url") for a in found if a["type"] == "post"}
    found = [a for a in found if not (a["type"] == "share" and a.get("url") in post_urls)]
    story = _dict(_dict(message.get("reply_to")).get("story"))
    if story:
        found.append(
            _clean(
                {
                    "type": "story_reply",
                    "url": _str(story.get("url")),
                    "story_id": _str(story.get("id")),
                }
            )
        )
    return text, found


def _attachment(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    url = _str(payload.get("url"))
    title = _str(payload.get("title"))
    if kind == "ig_post":
        return _clean(
            {
                "type": "post",
                "url": url,
                "title": title,
                "media_id": _str(payload.get("ig_post_media_id")),
            }
        )
    if kind in ("reel", "ig_reel"):
        return _clean(
            {
                "type": "reel",
                "url": url,
                "title": title,
                "reel_video_id": _str(payload.get("reel_video_id")),
            }
        )
    if kind == "share":
        return _clean(
            {
                "type": "share",
                "url": url,
                "title": title,
                "media_id": _str(payload.get("ig_post_media_id")),
            }
        )
    # image, video, audio, file, story_mention (the person mentioned the account in a story),
    # and anything newer: keep the type Instagram gave and the URL.
    return _clean({"type": kind[:40], "url": url})


def _clean(attachment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attachment.items() if v}


def _edit(edit: object, at: datetime) -> list[PlatformEvent]:
    data = _dict(edit)
    mid = _str(data.get("mid"))
    if not mid:
        return [Ignored("malformed_edit")]
    try:
        count = int(data.get("num_edit", 1))
    except (TypeError, ValueError):
        count = 1
    if count == 0:
        # Instagram also sends ``message_edit`` with ``num_edit: 0`` when a message is created;
        # it is not an edit (the ``message`` event carries the message).
        return [Ignored("edit_without_change")]
    return [MessageEdited(external_id=mid, text=_str(data.get("text")), at=at)]


def _reaction(sender: str, reaction: object, at: datetime) -> list[PlatformEvent]:
    data = _dict(reaction)
    mid = _str(data.get("mid"))
    if not mid or not sender:
        return [Ignored("malformed_reaction")]
    if data.get("action") == "unreact":
        return [ReactionChanged(external_id=mid, person_external_id=sender, reaction=None, at=at)]
    value = _str(data.get("emoji")) or _str(data.get("reaction"))
    if not value:
        return [Ignored("malformed_reaction")]
    return [ReactionChanged(external_id=mid, person_external_id=sender, reaction=value[:32], at=at)]


def _read(account: str, sender: str, read: object, at: datetime) -> list[PlatformEvent]:
    data = _dict(read)
    if sender == account:
        return [Ignored("own_read")]
    mid = _str(data.get("mid"))
    if mid:
        return [StatusChanged(external_id=mid, status="read", at=at)]
    watermark = when(data.get("watermark"))
    if watermark is not None and sender:
        return [ReadUpTo(person_external_id=sender, watermark=watermark)]
    return [Ignored("malformed_read")]


def _postback(account: str, sender: str, postback: object, at: datetime) -> list[PlatformEvent]:
    """An ice breaker or a button the person tapped: the person said something, in effect."""
    data = _dict(postback)
    title, payload = _str(data.get("title")), _str(data.get("payload"))
    if not sender or sender == account:
        return [Ignored("malformed_postback")]
    if not title and not payload:
        return [Ignored("empty_postback")]
    mid = _str(data.get("mid")) or f"postback:{sender}:{int(at.timestamp() * 1000)}"
    return [
        MessageReceived(
            thread=Thread(kind=Kind.dm, key=sender),
            sender=Person(external_id=sender),
            external_id=mid,
            text=title or payload,
            sent_at=at,
            extra={"postback_payload": payload[:1000]} if payload else {},
        )
    ]


# --- changes: comments, mentions ---------------------------------------------------------------


def _change(
    channel: ChannelConfig, account: str, change: object, entry_at: datetime | None
) -> list[PlatformEvent]:
    data = _dict(change)
    field, value = _str(data.get("field")), data.get("value")
    if not field or not isinstance(value, dict):
        return [Ignored("malformed_change")]
    if field == "comments":
        return _comment(channel, account, value, entry_at, live=False)
    if field == "live_comments":
        return _comment(channel, account, value, entry_at, live=True)
    if field == "mentions":
        return _mention(value, entry_at)
    if field == "story_insights":
        return [Ignored("story_insights")]  # metrics of an expired story, not a conversation
    if field in _MESSAGING_FIELDS:
        return _messaging(account, value, entry_at)
    return [Ignored(f"unknown_field:{field[:40]}")]


def _comment(
    channel: ChannelConfig,
    account: str,
    value: dict[str, Any],
    entry_at: datetime | None,
    *,
    live: bool,
) -> list[PlatformEvent]:
    comment_id = _str(value.get("id")) or _str(value.get("comment_id"))
    author = _dict(value.get("from"))
    author_id, username = _str(author.get("id")), _str(author.get("username"))
    if not comment_id or not author_id:
        return [Ignored("malformed_comment")]
    if live and channel.settings.get("ignore_live_comments"):
        return [Ignored("live_comment")]
    parent = _str(value.get("parent_id")) or None
    at = when(value.get("timestamp")) or entry_at or _now()
    media = _dict(value.get("media"))
    thread = Thread(kind=Kind.comment, key=parent or comment_id, subject=_subject(media, live=live))
    text = _str(value.get("text"))
    if author_id == account:
        if parent is None:
            # The account commenting on its own media starts no conversation with anyone.
            return [Ignored("own_comment")]
        # Whom it answers is not said: it joins the thread if Bandeja has it.
        return [
            EchoReceived(
                thread=thread, recipient=None, external_id=comment_id, text=text, sent_at=at
            )
        ]
    return [
        MessageReceived(
            thread=thread,
            sender=Person(external_id=author_id, handle=username or None),
            external_id=comment_id,
            text=text,
            sent_at=at,
            reply_to_external_id=parent,
            extra=_clean(
                {
                    "media_id": _str(media.get("id")),
                    "media_product_type": _str(media.get("media_product_type")),
                    "ad_id": _str(media.get("ad_id")),
                }
            ),
        )
    ]


def _subject(media: dict[str, Any], *, live: bool) -> str:
    label = (
        "live video"
        if live
        else _MEDIA_LABELS.get(_str(media.get("media_product_type")).upper(), "post")
    )
    media_id = _str(media.get("id"))
    subject = f"Instagram {label} {media_id}" if media_id else f"Instagram {label}"
    ad_title = _str(media.get("ad_title"))
    return f"{subject} (ad: {ad_title[:200]})" if ad_title else subject


def _mention(value: dict[str, Any], entry_at: datetime | None) -> list[PlatformEvent]:
    """Only ids arrive; ``expand`` fetches the text and the author. Until then (or if that
    fails) the mention is kept with empty text and the ids in an attachment (and in ``extra``,
    which stays once the mention is read)."""
    comment_id, media_id = _str(value.get("comment_id")), _str(value.get("media_id"))
    if not comment_id and not media_id:
        return [Ignored("malformed_mention")]
    ref = comment_id or media_id
    return [
        MessageReceived(
            thread=Thread(
                kind=Kind.mention,
                key=mention_thread_key(media_id, comment_id),
                subject=MENTION_SUBJECT,
            ),
            sender=Person(external_id=f"mention:{ref}", display_name="Instagram mention"),
            external_id=ref,
            text="",
            sent_at=entry_at or _now(),
            extra=_clean({"media_id": media_id, "comment_id": comment_id}),
            attachments=[
                _clean(
                    {
                        "type": MENTION,
                        "comment_id": comment_id,
                        "media_id": media_id,
                        "unresolved": True,
                    }
                )
            ],
        )
    ]
