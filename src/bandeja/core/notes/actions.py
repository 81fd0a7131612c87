"""Internal notes. ``@mentions`` name teammates by the local part of their e-mail or by their
name without spaces (``@maria`` or ``@maria.rossi``); ``@[Maria Rossi]`` names anyone exactly.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.actions import record
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import InvalidInput
from bandeja.core.events import NoteCreated, emit
from bandeja.core.notes.mentions import who_can_see
from bandeja.core.notes.models import Note, NoteMention
from bandeja.core.notes.schemas import NoteOut
from bandeja.core.notifications.actions import notify_mentions
from bandeja.core.text import fold
from bandeja.core.users.models import User

MAX_NOTE = 10_000
_MENTION = re.compile(r"@\[([^\]]{1,200})\]|@([\w.+-]{1,100}\w)", re.UNICODE)


def mention_handles(text: str) -> set[str]:
    handles = set()
    for bracketed, bare in _MENTION.findall(text):
        handles.add(fold(bracketed or bare))
    return handles


def user_handles(user: User) -> set[str]:
    name = fold(user.name)
    return {fold(user.email.split("@", 1)[0]), name, name.replace(" ", ""), name.replace(" ", ".")}


async def resolve_mentions(
    session: AsyncSession, workspace_id: int, text: str, channel_account_id: int
) -> list[int]:
    """The teammates named in ``text`` who can see the channel account; a name of someone who
    cannot is left as plain text (no notification about a conversation they cannot open)."""
    handles = mention_handles(text)
    if not handles:
        return []
    members = (await session.execute(who_can_see(workspace_id, channel_account_id))).scalars().all()
    return sorted(u.id for u in members if user_handles(u) & handles)


async def add_note(session: AsyncSession, actor: Actor, conversation_id: int, text: str) -> NoteOut:
    text = text.strip()
    if not text:
        raise InvalidInput("a note cannot be empty")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note can have at most {MAX_NOTE} characters")
    conversation = await get_conversation(session, actor, conversation_id)
    mentioned = await resolve_mentions(
        session, actor.workspace_id, text, conversation.channel_account_id
    )
    note = Note(
        workspace_id=actor.workspace_id,
        conversation_id=conversation.id,
        author_id=actor.user_id,
        text=text,
    )
    session.add(note)
    await session.flush()
    session.add_all(NoteMention(note_id=note.id, user_id=uid) for uid in mentioned)
    record(
        session,
        workspace_id=actor.workspace_id,
        conversation_id=conversation.id,
        verb="note.added",
        actor_user_id=actor.user_id,
        note_id=note.id,
        mentioned_user_ids=mentioned,
    )
    emit(
        session,
        NoteCreated(
            workspace_id=actor.workspace_id,
            channel_account_id=conversation.channel_account_id,
            actor_user_id=actor.user_id,
            conversation_id=conversation.id,
            note_id=note.id,
            mentioned_user_ids=mentioned,
        ),
    )
    # After the note's own event: a notification refers to a note the browser has heard of.
    await notify_mentions(
        session,
        actor,
        conversation_id=conversation.id,
        note_id=note.id,
        mentioned_user_ids=mentioned,
    )
    return NoteOut(
        id=note.id,
        conversation_id=conversation.id,
        author_id=actor.user_id,
        text=text,
        mentioned_user_ids=mentioned,
        created_at=note.created_at,
    )
