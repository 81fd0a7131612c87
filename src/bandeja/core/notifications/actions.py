"""Notifications: raised by the actions that concern someone (a mention, an assignment), in the
same transaction, and delivered live to that user only (``NotificationCreated`` after commit).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.events import NotificationCreated, NotificationsRead, emit
from bandeja.core.notifications.models import Notification, NotificationKind
from bandeja.core.notifications.queries import unread_count
from bandeja.storage.base import utcnow


async def _notify(
    session: AsyncSession,
    actor: Actor | None,
    *,
    workspace_id: int,
    user_ids: Sequence[int],
    kind: NotificationKind,
    conversation_id: int,
    note_id: int | None = None,
) -> None:
    actor_id = actor.user_id if actor else None
    # Nobody is told about what they did themselves.
    for user_id in sorted(set(user_ids) - {actor_id}):
        notification = Notification(
            workspace_id=workspace_id,
            user_id=user_id,
            kind=kind,
            conversation_id=conversation_id,
            note_id=note_id,
            actor_user_id=actor_id,
        )
        session.add(notification)
        await session.flush()
        emit(
            session,
            NotificationCreated(
                workspace_id=workspace_id,
                user_ids=[user_id],
                actor_user_id=actor_id,
                notification_id=notification.id,
                kind=kind.value,
                conversation_id=conversation_id,
                note_id=note_id,
                unread=await unread_count(session, workspace_id, user_id),
            ),
        )


async def notify_mentions(
    session: AsyncSession,
    actor: Actor,
    *,
    conversation_id: int,
    note_id: int,
    mentioned_user_ids: Sequence[int],
) -> None:
    await _notify(
        session,
        actor,
        workspace_id=actor.workspace_id,
        user_ids=mentioned_user_ids,
        kind=NotificationKind.mention,
        conversation_id=conversation_id,
        note_id=note_id,
    )


async def notify_assignment(
    session: AsyncSession,
    actor: Actor | None,
    *,
    workspace_id: int,
    conversation_id: int,
    assignee_id: int,
) -> None:
    await _notify(
        session,
        actor,
        workspace_id=workspace_id,
        user_ids=[assignee_id],
        kind=NotificationKind.assignment,
        conversation_id=conversation_id,
    )


async def mark_read(
    session: AsyncSession, actor: Actor, notification_ids: Sequence[int] | None = None
) -> int:
    """Mark some (or, with None, all) of the actor's notifications read; returns the unread
    count afterwards. Ids of other users' notifications are ignored, like unknown ids."""
    query = update(Notification).where(
        Notification.workspace_id == actor.workspace_id,
        Notification.user_id == actor.user_id,
        Notification.read_at.is_(None),
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    changed = (await session.execute(query.values(read_at=utcnow()))).rowcount  # type: ignore[attr-defined]
    unread = await unread_count(session, actor.workspace_id, actor.user_id)
    if changed:
        # The user's other tabs clear the badge too.
        emit(
            session,
            NotificationsRead(
                workspace_id=actor.workspace_id,
                user_ids=[actor.user_id],
                actor_user_id=actor.user_id,
                notification_ids=sorted(notification_ids) if notification_ids is not None else None,
                unread=unread,
            ),
        )
    return unread
