from __future__ import annotations

from sqlalchemy import ColumnElement, exists, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.conversations.models import Conversation as C
from bandeja.core.conversations.queries import (
    check_visible,
    decode_cursor,
    encode_cursor,
    scope_clauses,
)
from bandeja.core.errors import InvalidInput
from bandeja.core.messages.models import Message
from bandeja.core.messages.schemas import MessageOut, MessagePage
from bandeja.storage import reads
from bandeja.storage.base import UTCDateTime

MAX_PAGE = 200

# The columns of ``MessageOut``, in its order: the page is read as plain rows (storage.reads).
_FIELDS = tuple(MessageOut.model_fields)
_COLUMNS = tuple(getattr(Message, name) for name in _FIELDS)


async def list_messages(
    session: AsyncSession,
    actor: Actor,
    conversation_id: int,
    *,
    before: str | None = None,
    limit: int = 50,
) -> MessagePage:
    """A conversation's messages, newest first (by platform time); ``before`` pages back."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    # The page itself checks visibility; only an empty page needs telling "no (more) messages"
    # from "not yours" (404), so a conversation's first page is one statement, not two.
    visible = exists().where(C.id == conversation_id, *scope_clauses(actor))
    page = await messages_page(
        session, conversation_id, before=before, limit=limit, visible=visible
    )
    if not page.items:
        await check_visible(session, actor, conversation_id)
    return page


async def messages_page(
    session: AsyncSession,
    conversation_id: int,
    *,
    before: str | None,
    limit: int,
    visible: ColumnElement[bool] | None = None,
) -> MessagePage:
    """One page of messages. The caller has checked that the conversation is visible, or passes
    that check as ``visible``, a condition the page's statement then includes."""
    stmt = select(*_COLUMNS).where(Message.conversation_id == conversation_id)
    if visible is not None:
        stmt = stmt.where(visible)
    if before:
        at, ident = decode_cursor(before)
        stmt = stmt.where(
            tuple_(Message.sent_at, Message.id) < tuple_(literal(at, UTCDateTime()), literal(ident))
        )
    stmt = stmt.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit + 1)
    items = [dict(zip(_FIELDS, row, strict=True)) for row in await reads.rows(session, stmt)]
    cursor = None
    if len(items) > limit:
        del items[limit:]
        cursor = encode_cursor(items[-1]["sent_at"], items[-1]["id"])
    # One validation of the whole page, not one per message.
    return MessagePage.model_validate({"items": items, "next_cursor": cursor})
