"""Writes on conversations. Each action checks its input, changes the rows, records an activity
and emits a ``ConversationChanged`` event that is published after commit. Callers commit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.actions import record
from bandeja.core.channels.models import ChannelMember
from bandeja.core.conversations.models import (
    Conversation,
    ConversationRead,
    ConversationTag,
    Priority,
    Status,
)
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import InvalidInput
from bandeja.core.events import ConversationChanged, emit
from bandeja.core.events import ConversationRead as ReadEvent
from bandeja.core.notifications.actions import notify_assignment
from bandeja.core.tags.models import Tag
from bandeja.core.users.models import Membership, Role, Team
from bandeja.storage.base import utcnow
from bandeja.storage.upsert import dialect_insert


def _changed(
    session: AsyncSession,
    actor: Actor | None,
    conversation: Conversation,
    verb: str,
    changes: dict[str, Any],
) -> None:
    actor_id = actor.user_id if actor else None
    record(
        session,
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        verb=verb,
        actor_user_id=actor_id,
        **changes,
    )
    emit(
        session,
        ConversationChanged(
            workspace_id=conversation.workspace_id,
            channel_account_id=conversation.channel_account_id,
            actor_user_id=actor_id,
            conversation_id=conversation.id,
            changes=changes,
        ),
    )


async def check_assignee(
    session: AsyncSession, actor: Actor, conversation: Conversation, user_id: int
) -> None:
    role = (
        await session.execute(
            select(Membership.role).where(
                Membership.workspace_id == actor.workspace_id, Membership.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if role is None:
        raise InvalidInput(f"user {user_id} is not a member of this workspace")
    if role is Role.agent:
        member = await session.scalar(
            select(
                exists().where(
                    ChannelMember.user_id == user_id,
                    ChannelMember.channel_account_id == conversation.channel_account_id,
                )
            )
        )
        if not member:
            raise InvalidInput(
                f"user {user_id} cannot see this conversation's channel account; "
                "add them to it first"
            )


async def assign(
    session: AsyncSession, actor: Actor, conversation_id: int, assignee_id: int | None
) -> Conversation:
    conversation = await get_conversation(session, actor, conversation_id)
    if assignee_id is not None:
        await check_assignee(session, actor, conversation, assignee_id)
    if conversation.assignee_id == assignee_id:
        return conversation
    conversation.assignee_id = assignee_id
    verb = "conversation.assigned" if assignee_id is not None else "conversation.unassigned"
    _changed(session, actor, conversation, verb, {"assignee_id": assignee_id})
    if assignee_id is not None:
        await notify_assignment(
            session,
            actor,
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            assignee_id=assignee_id,
        )
    return conversation


async def set_team(
    session: AsyncSession, actor: Actor, conversation_id: int, team_id: int | None
) -> Conversation:
    conversation = await get_conversation(session, actor, conversation_id)
    if team_id is not None:
        team = await session.get(Team, team_id)
        if team is None or team.workspace_id != actor.workspace_id:
            raise InvalidInput(f"team {team_id} does not exist")
    if conversation.team_id != team_id:
        conversation.team_id = team_id
        _changed(session, actor, conversation, "conversation.team_set", {"team_id": team_id})
    return conversation


async def _check_tags(session: AsyncSession, actor: Actor, tag_ids: Sequence[int]) -> None:
    if not tag_ids:
        return
    found = set(
        (
            await session.execute(
                select(Tag.id).where(Tag.workspace_id == actor.workspace_id, Tag.id.in_(tag_ids))
            )
        ).scalars()
    )
    missing = sorted(set(tag_ids) - found)
    if missing:
        raise InvalidInput(f"unknown tag ids: {missing}")


async def _tag_ids(session: AsyncSession, conversation_id: int) -> set[int]:
    rows = await session.execute(
        select(ConversationTag.tag_id).where(ConversationTag.conversation_id == conversation_id)
    )
    return set(rows.scalars())


async def change_tags(
    session: AsyncSession,
    actor: Actor,
    conversation_id: int,
    *,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
) -> list[int]:
    """Add and remove tags; returns the conversation's tag ids afterwards."""
    conversation = await get_conversation(session, actor, conversation_id)
    await _check_tags(session, actor, [*add, *remove])
    current = await _tag_ids(session, conversation.id)
    to_add = sorted(set(add) - current)
    to_remove = sorted((set(remove) & current) - set(add))
    if to_add:
        session.add_all(
            ConversationTag(conversation_id=conversation.id, tag_id=t, status=conversation.status)
            for t in to_add
        )
    if to_remove:
        await session.execute(
            delete(ConversationTag).where(
                ConversationTag.conversation_id == conversation.id,
                ConversationTag.tag_id.in_(to_remove),
            )
        )
    after = sorted((current | set(to_add)) - set(to_remove))
    if to_add or to_remove:
        _changed(
            session,
            actor,
            conversation,
            "conversation.tagged",
            {"tag_ids": after, "added": to_add, "removed": to_remove},
        )
    return after


def _set_status(
    conversation: Conversation,
    status: Status,
    *,
    until: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or utcnow()
    conversation.status = status
    conversation.follow_up_until = until if status is Status.follow_up else None
    conversation.completed_at = now if status is Status.complete else None
    return {
        "status": status.value,
        "follow_up_until": until.isoformat() if until else None,
        "completed_at": conversation.completed_at.isoformat()
        if conversation.completed_at
        else None,
    }


async def complete(
    session: AsyncSession, actor: Actor, conversation_id: int, *, now: datetime | None = None
) -> Conversation:
    conversation = await get_conversation(session, actor, conversation_id)
    if conversation.status is not Status.complete:
        changes = _set_status(conversation, Status.complete, now=now)
        _changed(session, actor, conversation, "conversation.completed", changes)
    return conversation


async def reopen(session: AsyncSession, actor: Actor, conversation_id: int) -> Conversation:
    conversation = await get_conversation(session, actor, conversation_id)
    if conversation.status is not Status.open:
        changes = _set_status(conversation, Status.open)
        _changed(session, actor, conversation, "conversation.reopened", changes)
    return conversation


async def follow_up(
    session: AsyncSession,
    actor: Actor,
    conversation_id: int,
    until: datetime,
    *,
    now: datetime | None = None,
) -> Conversation:
    """Set a conversation aside until ``until`` (``now``: the clock, for imports and tests)."""
    now = now or utcnow()
    if until.tzinfo is None:
        raise InvalidInput("until needs a time zone, e.g. 2026-12-01T09:00:00+01:00")
    if until <= now:
        raise InvalidInput("a follow-up must be in the future")
    conversation = await get_conversation(session, actor, conversation_id)
    changes = _set_status(conversation, Status.follow_up, until=until, now=now)
    _changed(session, actor, conversation, "conversation.follow_up", changes)
    return conversation


async def reopen_due_follow_ups(session: AsyncSession, now: datetime | None = None) -> int:
    """System job: follow-ups whose time has come go back to the open queue."""
    now = now or utcnow()
    due = (
        (
            await session.execute(
                select(Conversation)
                .where(Conversation.status == Status.follow_up, Conversation.follow_up_until <= now)
                .limit(500)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for conversation in due:
        changes = _set_status(conversation, Status.open, now=now)
        _changed(session, None, conversation, "conversation.follow_up_due", changes)
    return len(due)


async def set_priority(
    session: AsyncSession, actor: Actor, conversation_id: int, priority: str
) -> Conversation:
    try:
        value = Priority[priority]
    except KeyError:
        raise InvalidInput(
            f"priority must be one of {', '.join(p.name for p in Priority)}"
        ) from None
    conversation = await get_conversation(session, actor, conversation_id)
    if conversation.priority != value:
        conversation.priority = int(value)
        _changed(session, actor, conversation, "conversation.priority", {"priority": value.name})
    return conversation


@functools.cache
def _read_upsert(dialect_name: str) -> Any:
    """Insert or move forward my read mark (built once: opening a conversation runs it)."""
    table = ConversationRead.__table__
    stmt = dialect_insert(dialect_name, table)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "conversation_id"], set_={"read_at": stmt.excluded.read_at}
    )


async def mark_read(
    session: AsyncSession, actor: Actor, conversation_id: int, *, checked: bool = False
) -> None:
    """Mark the conversation read for ``actor`` (not for teammates). ``checked``: the caller
    has just loaded it as ``actor`` (which checks that they may see it), so it is not read
    again."""
    if not checked:
        await get_conversation(session, actor, conversation_id)
    # Arrival times are server times too, so "now" covers everything that has arrived.
    await session.execute(
        _read_upsert(session.get_bind().dialect.name),
        {"user_id": actor.user_id, "conversation_id": conversation_id, "read_at": utcnow()},
    )
    emit(
        session,
        ReadEvent(
            workspace_id=actor.workspace_id,
            user_ids=[actor.user_id],
            actor_user_id=actor.user_id,
            conversation_id=conversation_id,
            read=True,
        ),
    )


async def mark_unread(session: AsyncSession, actor: Actor, conversation_id: int) -> None:
    conversation = await get_conversation(session, actor, conversation_id)
    await session.execute(
        delete(ConversationRead).where(
            ConversationRead.user_id == actor.user_id,
            ConversationRead.conversation_id == conversation.id,
        )
    )
    emit(
        session,
        ReadEvent(
            workspace_id=actor.workspace_id,
            user_ids=[actor.user_id],
            actor_user_id=actor.user_id,
            conversation_id=conversation.id,
            read=False,
        ),
    )
