"""Completing LinkedIn's pending events with the Comments and Posts APIs.

A notification names a comment; its text, author, time and parent come from
``GET {base}/rest/socialActions/{post URN}/comments/{comment id}``, and a mentioning post's text
and author from ``GET {base}/rest/posts/{post URN}``. A failed lookup (network, 4xx, 5xx, a body
we cannot read) never fails the delivery: the event keeps what the notification said, so the
comment is still stored (with empty text, its URN as external id and the post's URL on the
conversation) and nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from bandeja.channels.base import ChannelConfig, from_millis
from bandeja.channels.linkedin import urns
from bandeja.channels.linkedin.api import REST_API, headers
from bandeja.channels.linkedin.parse import (
    PendingComment,
    PendingEdit,
    PendingMention,
    person,
)
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MessageEdited,
    MessageReceived,
    PlatformEvent,
    Thread,
)

log = logging.getLogger(__name__)

# Ingest waits for these lookups; a slow API must not hold the queue for long.
LOOKUP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class _Lookups:
    """The API reads of one delivery, each made at most once (a batch can name one comment in
    several notifications, and echoes need their parent comment too)."""

    def __init__(self, client: httpx.AsyncClient, channel: ChannelConfig) -> None:
        self.client = client
        self.channel = channel
        self.base = channel.api_base_url(REST_API)
        self._cache: dict[str, dict[str, Any] | None] = {}

    async def _get(self, url: str) -> dict[str, Any] | None:
        if url in self._cache:
            return self._cache[url]
        found: dict[str, Any] | None = None
        try:
            response = await self.client.get(
                url, headers=headers(self.channel), timeout=LOOKUP_TIMEOUT
            )
            if response.status_code == 200:
                body = response.json()
                found = body if isinstance(body, dict) else None
            else:
                log.info("LinkedIn lookup %s answered %s", url, response.status_code)
        except (httpx.HTTPError, ValueError) as exc:
            log.info("LinkedIn lookup %s failed: %r", url, exc)
        self._cache[url] = found
        return found

    async def comment(self, post: str, comment: str) -> dict[str, Any] | None:
        parts = urns.comment_parts(comment)
        if parts is None:
            return None
        target = post if urns.is_post(post) else parts[0]
        return await self._get(
            f"{self.base}/rest/socialActions/{urns.path(target)}/comments/{parts[1]}"
        )

    async def post(self, post: str) -> dict[str, Any] | None:
        return await self._get(f"{self.base}/rest/posts/{urns.path(post)}")


def _name(data: dict[str, Any], key: str) -> str | None:
    """A display name from a decorated (``actor~`` / ``author~``) projection, when present."""
    decorated = data.get(f"{key}~")
    if not isinstance(decorated, dict):
        return None
    name = " ".join(
        str(decorated[k]) for k in ("localizedFirstName", "localizedLastName") if decorated.get(k)
    )
    return name or (str(decorated["localizedName"]) if decorated.get("localizedName") else None)


def _time(data: dict[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("time")
        if isinstance(value, int | float) and value > 0:
            return from_millis(value)
    return None


def _message_text(data: dict[str, Any]) -> str | None:
    message = data.get("message")
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        return str(message["text"])
    return None


async def expand(
    client: httpx.AsyncClient, channel: ChannelConfig, events: Sequence[PlatformEvent]
) -> list[PlatformEvent]:
    lookups = _Lookups(client, channel)
    done: list[PlatformEvent] = []
    for event in events:
        if isinstance(event, PendingComment):
            done.append(await _comment(lookups, event))
        elif isinstance(event, PendingEdit):
            done.append(await _edit(lookups, event))
        elif isinstance(event, PendingMention):
            done.append(await _mention(lookups, event))
        else:
            done.append(event)
    return done


async def _comment(lookups: _Lookups, event: PendingComment) -> PlatformEvent:
    organization = urns.organization(lookups.channel.external_id)
    data = await lookups.comment(event.post_urn, event.external_id) or {}
    actor = str(data.get("actor") or event.notified_actor or "") or None
    text = _message_text(data)
    text = text if text is not None else (event.notified_text or "")
    parent = urns.comment(data.get("parentComment")) or event.notified_parent
    sent_at = _time(data, "created") or event.sent_at
    # LinkedIn nests one level: a reply's parent is the top-level comment, the thread's key.
    thread = Thread(
        kind=Kind.comment, key=parent or event.external_id, post_url=event.thread.post_url
    )
    if event.action == "ADMIN_COMMENT" or actor == organization:
        if parent is None:
            # The Page commenting on a post (its own or another's): nobody to answer.
            return Ignored("own_comment")
        parent_data = await lookups.comment(event.post_urn, parent) or {}
        parent_actor = str(parent_data.get("actor") or "") or None
        return EchoReceived(
            thread=thread,
            # Whom the Page answered; unknown, the echo only joins a thread we already have.
            recipient=person(parent_actor, _name(parent_data, "actor")) if parent_actor else None,
            external_id=event.external_id,
            text=text,
            sent_at=sent_at,
        )
    return MessageReceived(
        thread=thread,
        sender=person(actor, _name(data, "actor"), about=event.external_id),
        external_id=event.external_id,
        text=text,
        sent_at=sent_at,
        attachments=list(event.attachments),
        reply_to_external_id=parent,
        extra={**event.extra, **({} if data else {"lookup_failed": True})},
    )


async def _edit(lookups: _Lookups, event: PendingEdit) -> PlatformEvent:
    data = await lookups.comment(event.post_urn, event.external_id) or {}
    text = _message_text(data)
    if text is None:
        # Without the new text an edit would blank the comment: keep the old text instead.
        return Ignored("edit_text_unavailable")
    return MessageEdited(
        external_id=event.external_id, text=text, at=_time(data, "lastModified") or event.at
    )


async def _mention(lookups: _Lookups, event: PendingMention) -> PlatformEvent:
    data = await lookups.post(event.external_id) or {}
    author = str(data.get("author") or "") or None
    if author and author == urns.organization(lookups.channel.external_id):
        return Ignored("own_post_mention")
    commentary = data.get("commentary")
    return MessageReceived(
        thread=event.thread,
        sender=(
            person(author, _name(data, "author"), about=event.external_id)
            if author
            else event.sender
        ),
        external_id=event.external_id,
        text=str(commentary) if isinstance(commentary, str) else event.text,
        sent_at=_time(data, "publishedAt", "createdAt") or event.sent_at,
        extra={**event.extra, **({} if data else {"lookup_failed": True})},
    )
