from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.notifications.models import Notification
from bandeja.core.notifications.schemas import NotificationOut, NotificationPage


async def unread_count(session: AsyncSession, workspace_id: int, user_id: int) -> int:
    """The badge (``ix_notifications_unread``)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.workspace_id == workspace_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
    )
    return int(count or 0)


async def list_notifications(
    session: AsyncSession,
    actor: Actor,
    *,
    before: int | None = None,
    limit: int = 50,
    unread_only: bool = False,
) -> NotificationPage:
    """The actor's notifications, newest first (``ix_notifications_user``)."""
    query = select(Notification).where(
        Notification.workspace_id == actor.workspace_id, Notification.user_id == actor.user_id
    )
    if before is not None:
        query = query.where(Notification.id < before)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = list(
        (await session.execute(query.order_by(Notification.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(
        items=[NotificationOut.model_validate(r) for r in rows],
        unread=await unread_count(session, actor.workspace_id, actor.user_id),
        next_before=rows[-1].id if more and rows else None,
    )
