from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.notes.models import Note, NoteMention
from bandeja.core.notes.schemas import NoteOut

MAX_NOTES = 500


async def notes_of(session: AsyncSession, conversation_id: int) -> list[NoteOut]:
    """The notes of a conversation (the caller has checked it may see it), oldest first."""
    notes = (
        (
            await session.execute(
                select(Note)
                .where(Note.conversation_id == conversation_id)
                .order_by(Note.id)
                .limit(MAX_NOTES)
            )
        )
        .scalars()
        .all()
    )
    mentions: dict[int, list[int]] = defaultdict(list)
    if notes:
        rows = await session.execute(
            select(NoteMention.note_id, NoteMention.user_id)
            .join(Note, Note.id == NoteMention.note_id)
            .where(Note.conversation_id == conversation_id)
        )
        for note_id, user_id in rows:
            mentions[note_id].append(user_id)
    return [
        NoteOut(
            id=n.id,
            conversation_id=n.conversation_id,
            author_id=n.author_id,
            text=n.text,
            mentioned_user_ids=sorted(mentions[n.id]),
            created_at=n.created_at,
        )
        for n in notes
    ]
