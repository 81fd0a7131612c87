"""LinkedIn organization social action notifications → the core's platform events.

A delivery is ``{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [...]}``
with up to ten notifications, each ``{notificationId, organizationalEntity, action, sourcePost,
generatedActivity, lastModifiedAt, subscriber, decorated…?}``. Actions:

- ``COMMENT`` → a customer comment (``comment`` conversation); ``ADMIN_COMMENT`` → the Page's own
  comment (an echo); ``COMMENT_EDIT`` → ``MessageEdited``; ``COMMENT_DELETE`` → ``MessageDeleted``;
- ``SHARE_MENTION`` → a post that mentions the Page (``mention`` conversation);
- ``LIKE`` and ``SHARE`` (a reshare) → ``Ignored``.

A notification names the comment but need not carry its text, author or parent, so ``parse``
returns *pending* events (``PendingComment``, ``PendingEdit``, ``PendingMention``) that
``expand.expand`` completes with the Comments and Posts APIs. They subclass the core's events, and
are complete enough to be applied as they are (empty text) when the API cannot be reached.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bandeja.channels.base import ChannelConfig, from_millis
from bandeja.channels.linkedin import urns
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    Ignored,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    Person,
    PlatformEvent,
    Thread,
)

Json = Mapping[str, Any]
EVENT_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
UNKNOWN_NAME = "LinkedIn member"


@dataclass(frozen=True, slots=True)
class PendingComment(MessageReceived):
    """A ``COMMENT`` or ``ADMIN_COMMENT`` whose text, author and parent ``expand`` fetches.

    As a plain ``MessageReceived`` it is the comment with whatever the notification said (empty
    text, thread = the comment itself): what is stored if the Comments API cannot be reached."""

    action: str = "COMMENT"
    post_urn: str = ""
    notified_actor: str | None = None
    notified_text: str | None = None
    notified_parent: str | None = None


@dataclass(frozen=True, slots=True)
class PendingEdit(MessageEdited):
    """A ``COMMENT_EDIT`` without the new text: ``expand`` fetches it, or drops the edit."""

    post_urn: str = ""


@dataclass(frozen=True, slots=True)
class PendingMention(MessageReceived):
    """A ``SHARE_MENTION`` without the post's text or author: ``expand`` reads the post."""


def parse(channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("a LinkedIn notification delivery is a JSON object")
    if payload.get("type") not in (None, EVENT_TYPE):
        return [Ignored("unknown_event_type")]
    notifications = payload.get("notifications")
    if not isinstance(notifications, list):
        return [Ignored("malformed_notification")]
    return [_safe(channel, item) for item in notifications]


def _safe(channel: ChannelConfig, item: object) -> PlatformEvent:
    if not isinstance(item, dict):
        return Ignored("malformed_notification")
    try:
        return _notification(channel, item)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return Ignored("malformed_notification")


def _decorated(item: Json, key: str) -> Json:
    decorated = item.get("decoratedGeneratedActivity")
    value = decorated.get(key) if isinstance(decorated, dict) else None
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """``"text"`` or Rest.li's ``{"text": …}`` message shape."""
    if isinstance(value, dict):
        value = value.get("text")
    return str(value) if isinstance(value, str) else None


def person(actor: str | None, name: str | None = None, *, about: str = "") -> Person:
    """A LinkedIn member (or another organization) by URN. Profile lookups are restricted, so
    the URN is the handle and the name is what the API volunteered, if anything. An author we
    could not learn is one unknown person per comment (``about``), never one shared contact."""
    if not actor:
        return Person(external_id=f"unknown-author:{about}", display_name=UNKNOWN_NAME)
    return Person(external_id=actor, display_name=name or UNKNOWN_NAME, handle=actor)


def _notification(channel: ChannelConfig, item: Json) -> PlatformEvent:
    organization = urns.organization(channel.external_id)
    entity = item.get("organizationalEntity")
    if entity and entity != organization:
        return Ignored("other_organization")
    action = str(item.get("action") or "")
    at = (
        from_millis(item["lastModifiedAt"])
        if item.get("lastModifiedAt") is not None
        else datetime.now(UTC)
    )
    source = item.get("sourcePost")
    if action in ("LIKE", "SHARE"):
        return Ignored(action.lower())
    if action == "SHARE_MENTION":
        return _mention(item, source, at)
    if action not in ("COMMENT", "ADMIN_COMMENT", "COMMENT_EDIT", "COMMENT_DELETE"):
        return Ignored("unknown_action")
    decorated = _decorated(item, "comment")
    comment = urns.comment(item.get("generatedActivity")) or urns.comment(decorated.get("entity"))
    if comment is None:
        return Ignored("malformed_notification")
    parts = urns.comment_parts(comment)
    assert parts is not None
    post = str(source) if urns.is_post(source) else parts[0]
    text = _text(decorated.get("message")) or _text(decorated.get("text"))
    if action == "COMMENT_DELETE":
        return MessageDeleted(external_id=comment, at=at)
    if action == "COMMENT_EDIT":
        if text is not None:
            return MessageEdited(external_id=comment, text=text, at=at)
        return PendingEdit(external_id=comment, text="", at=at, post_urn=post)
    actor = decorated.get("actor") or decorated.get("owner")
    parent = urns.comment(decorated.get("parentComment"))
    return PendingComment(
        thread=Thread(kind=Kind.comment, key=parent or comment, post_url=urns.post_url(post)),
        sender=person(str(actor) if actor else None, about=comment),
        external_id=comment,
        text=text or "",
        sent_at=at,
        reply_to_external_id=parent,
        # What LinkedIn named, kept even when the comment cannot be read back.
        extra={"post_urn": post, "action": action},
        action=action,
        post_urn=post,
        notified_actor=str(actor) if actor else None,
        notified_text=text,
        notified_parent=parent,
    )


def _mention(item: Json, source: object, at: datetime) -> PlatformEvent:
    decorated = _decorated(item, "share")
    share = item.get("generatedActivity") or decorated.get("entity") or source
    if not urns.is_post(share):
        return Ignored("malformed_notification")
    thread = Thread(kind=Kind.mention, key=str(share), post_url=urns.post_url(str(share)))
    owner = decorated.get("owner") or decorated.get("author")
    text = _text(decorated.get("text")) or _text(decorated.get("commentary"))
    if owner and text is not None:
        return MessageReceived(
            thread=thread,
            sender=person(str(owner)),
            external_id=str(share),
            text=text,
            sent_at=at,
            extra={"post_urn": str(share), "action": "SHARE_MENTION"},
        )
    return PendingMention(
        thread=thread,
        sender=person(str(owner) if owner else None, about=str(share)),
        external_id=str(share),
        text=text or "",
        sent_at=at,
        extra={"post_urn": str(share), "action": "SHARE_MENTION"},
    )
