"""Page feed changes (``entry[].changes[]``, ``field: "feed"``) → events about comments.

Threads: one ``comment`` conversation per top-level comment. Facebook comments have two levels:
a top-level comment's ``parent_id`` is the post id, and every reply's ``parent_id`` is the
top-level comment (replying to a reply attaches to the same top-level comment). So the
``thread_key`` is the comment's own id for a top-level comment and ``parent_id`` for a reply.

Comments written by the Page itself (``from.id`` = the Page) are its replies: echoes, outbound.
Feed times (``created_time``, ``entry.time``) are in seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bandeja.channels.messenger.shape import ident, obj, received, text, when
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    CommentHidden,
    EchoReceived,
    Ignored,
    MessageDeleted,
    MessageEdited,
    Person,
    PlatformEvent,
    ReactionChanged,
    Thread,
)

# Feed reactions (``reaction_type``) as the emoji an agent sees.
FEED_REACTIONS = {
    "like": "👍",
    "love": "❤️",
    "care": "🥰",
    "haha": "😆",
    "wow": "😮",
    "sad": "😢",
    "sorry": "😢",
    "angry": "😠",
    "anger": "😠",
}
# Feed items that are not comments: posts, shares, likes, photos… (the Page's own publishing
# and its audience's reactions to posts). Counted, not shown.
_NOT_COMMENTS = {
    "status",
    "post",
    "photo",
    "video",
    "share",
    "like",
    "album",
    "event",
    "story",
    "question",
    "note",
    "coupon",
    "checkin",
    "milestone",
    "hashtag",
    "reaction",
}


def change(value: Any, page_id: str, entry_time: datetime | None) -> list[PlatformEvent]:
    """One ``entry.changes[]`` item."""
    item = obj(value)
    if item is None:
        return [Ignored("malformed:change")]
    field = text(item.get("field")) or "?"
    if field != "feed":
        return [Ignored(f"unsupported:{field}"[:80])]
    data = obj(item.get("value"))
    if data is None:
        return [Ignored("malformed:feed")]
    kind = text(data.get("item")) or "?"
    if kind == "comment":
        return [_comment(data, page_id, entry_time)]
    if kind == "reaction" and ident(data.get("comment_id")):
        return [_comment_reaction(data, entry_time)]
    if kind in _NOT_COMMENTS:
        return [Ignored(f"feed:{kind}")]
    return [Ignored(f"feed:unsupported:{kind}"[:80])]


def thread_of(data: dict[str, Any], comment_id: str) -> Thread:
    post_id = ident(data.get("post_id"))
    parent_id = ident(data.get("parent_id"))
    top_level = parent_id is None or parent_id == post_id
    post = obj(data.get("post")) or {}
    subject = text(post.get("message")) or post_id
    post_url = text(post.get("permalink_url")) or (
        f"https://www.facebook.com/{post_id}" if post_id else None
    )
    return Thread(
        kind=Kind.comment,
        key=comment_id if top_level else str(parent_id),
        subject=subject[:500] if subject else None,
        post_url=post_url,
    )


def _author(data: dict[str, Any]) -> tuple[str | None, str | None]:
    author = obj(data.get("from")) or {}
    person = ident(author.get("id")) or ident(data.get("sender_id"))
    name = text(author.get("name")) or text(data.get("sender_name"))
    return person, name


def _comment(data: dict[str, Any], page_id: str, entry_time: datetime | None) -> PlatformEvent:
    comment_id = ident(data.get("comment_id"))
    verb = text(data.get("verb")) or "?"
    created = when(data.get("created_time"))
    if comment_id is None:
        return Ignored("malformed:comment")
    # Changes to an existing comment are dated by the notification (created_time stays the
    # comment's own creation time across edits).
    changed_at = entry_time or created
    if verb in ("edited", "edit"):
        body = text(data.get("message"))
        if body is None or changed_at is None:
            return Ignored("malformed:comment")
        return MessageEdited(external_id=comment_id, text=body, at=changed_at)
    if verb == "remove":
        return (
            Ignored("malformed:comment")
            if changed_at is None
            else MessageDeleted(external_id=comment_id, at=changed_at)
        )
    if verb in ("hide", "unhide"):
        return (
            Ignored("malformed:comment")
            if changed_at is None
            else CommentHidden(external_id=comment_id, hidden=verb == "hide", at=changed_at)
        )
    if verb != "add":
        return Ignored(f"feed:comment:{verb}"[:60])
    at = created or entry_time
    if at is None:
        return Ignored("malformed:comment")
    thread = thread_of(data, comment_id)
    body = text(data.get("message")) or ""
    attachments: list[dict[str, Any]] = []
    if text(data.get("photo")):
        attachments.append({"type": "image", "url": data["photo"]})
    if text(data.get("video")):
        attachments.append({"type": "video", "url": data["video"]})
    person, name = _author(data)
    if person == page_id:
        if thread.key == comment_id:
            # The Page commenting under its own post, outside any customer's thread.
            return Ignored("feed:page_comment")
        # The Page's reply in a customer's thread: from Bandeja (matched by comment id) or
        # from Facebook itself. The feed does not say whom it answers; the thread does.
        return EchoReceived(
            thread=thread,
            recipient=Person(external_id=page_id, display_name=name),
            external_id=comment_id,
            text=body,
            sent_at=at,
            attachments=attachments,
        )
    if person is None:
        # Facebook leaves ``from`` out for people who have not allowed the app to see them;
        # keep the comment, under an identity of its own.
        person, name = f"unknown:{comment_id}", name or "Facebook user"
    if not body and not attachments:
        return Ignored("empty_comment")
    parent_id = ident(data.get("parent_id"))
    return received(
        thread=thread,
        sender=Person(external_id=person, display_name=name),
        external_id=comment_id,
        text=body,
        sent_at=at,
        attachments=attachments,
        reply_to_external_id=None if thread.key == comment_id else parent_id,
    )


def _comment_reaction(data: dict[str, Any], entry_time: datetime | None) -> PlatformEvent:
    """Someone reacted to a comment (most usefully, to the Page's reply)."""
    comment_id = str(ident(data.get("comment_id")))
    person, _ = _author(data)
    at = when(data.get("created_time")) or entry_time
    if person is None or at is None:
        return Ignored("malformed:reaction")
    if text(data.get("verb")) == "remove":
        return ReactionChanged(
            external_id=comment_id, person_external_id=person, reaction=None, at=at
        )
    kind = text(data.get("reaction_type")) or "like"
    return ReactionChanged(
        external_id=comment_id,
        person_external_id=person,
        reaction=FEED_REACTIONS.get(kind, kind),
        at=at,
    )
