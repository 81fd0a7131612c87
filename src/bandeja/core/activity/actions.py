from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.activity.models import Activity


def record(
    session: AsyncSession,
    *,
    workspace_id: int,
    verb: str,
    actor_user_id: int | None,
    conversation_id: int | None = None,
    **data: Any,
) -> Activity:
    """Add an activity row to the current transaction: it commits or rolls back with the change."""
    activity = Activity(
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        actor_user_id=actor_user_id,
        verb=verb,
        data=data,
    )
    session.add(activity)
    return activity
