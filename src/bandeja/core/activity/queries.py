from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.activity.models import Activity

MAX_ACTIVITY = 200


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int | None
    actor_user_id: int | None
    verb: str
    data: dict[str, Any]
    created_at: datetime


async def activity_of(session: AsyncSession, conversation_id: int) -> list[ActivityOut]:
    """The latest activity of a conversation (visibility checked by the caller), oldest first."""
    rows = (
        (
            await session.execute(
                select(Activity)
                .where(Activity.conversation_id == conversation_id)
                .order_by(Activity.id.desc())
                .limit(MAX_ACTIVITY)
            )
        )
        .scalars()
        .all()
    )
    return [ActivityOut.model_validate(a) for a in reversed(rows)]
