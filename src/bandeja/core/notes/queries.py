from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.notes.models import Note, NoteMention
from bandeja.core.notes.schemas import NoteOut
from bandeja.storage import reads

MAX_NOTES = 500
_NOTES = TypeAdapter(list[NoteOut])


async def notes_of(session: AsyncSession, conversation_id: int) -> list[NoteOut]:
    """The notes of a conversation (the caller has checked it may see it), oldest first, with
    the users each mentions: one statement."""
    dialect_name = session.get_bind().dialect.name
    mentioned = (
        select(reads.json_array_agg(dialect_name, NoteMention.user_id))
        .where(NoteMention.note_id == Note.id)
        .scalar_subquery()
    )
    statement = (
        select(Note.id, Note.conversation_id, Note.author_id, Note.text, Note.created_at, mentioned)
        .where(Note.conversation_id == conversation_id)
        .order_by(Note.id)
        .limit(MAX_NOTES)
    )
    return _NOTES.validate_python(
        [
            {
                "id": note_id,
                "conversation_id": conversation,
                "author_id": author_id,
                "text": text,
                "mentioned_user_ids": sorted(mentions or ()),
                "created_at": created_at,
            }
            for note_id, conversation, author_id, text, created_at, mentions in await reads.rows(
                session, statement
            )
        ]
    )
