from __future__ import annotations

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.conversations.queries import decode_cursor, encode_cursor, get_conversation
from bandeja.core.errors import InvalidInput
from bandeja.core.messages.models import Message
from bandeja.core.messages.schemas import MessageOut, MessagePage
from bandeja.storage.base import UTCDateTime

MAX_PAGE = 200


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
    conversation = await get_conversation(session, actor, conversation_id)
    return await messages_page(session, conversation.id, before=before, limit=limit)


async def messages_page(
    session: AsyncSession, conversation_id: int, *, before: str | None, limit: int
) -> MessagePage:
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if before:
        at, ident = decode_cursor(before)
        stmt = stmt.where(
            tuple_(Message.sent_at, Message.id) < tuple_(literal(at, UTCDateTime()), literal(ident))
        )
    rows = (
        (
            await session.execute(
                stmt.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit + 1)
            )
        )
        .scalars()
        .all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].sent_at, rows[-1].id) if more and rows else None
    return MessagePage(items=[MessageOut.model_validate(m) for m in rows], next_cursor=cursor)
