from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.activity.models import Activity
from bandeja.storage import reads

MAX_ACTIVITY = 200


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int | None
    actor_user_id: int | None
    verb: str
    data: dict[str, Any]
    created_at: datetime


_FIELDS = tuple(ActivityOut.model_fields)
_COLUMNS = tuple(getattr(Activity, name) for name in _FIELDS)
_ACTIVITY = TypeAdapter(list[ActivityOut])


async def activity_of(session: AsyncSession, conversation_id: int) -> list[ActivityOut]:
    """The latest activity of a conversation (visibility checked by the caller), oldest first."""
    statement = (
        select(*_COLUMNS)
        .where(Activity.conversation_id == conversation_id)
        .order_by(Activity.id.desc())
        .limit(MAX_ACTIVITY)
    )
    latest = [dict(zip(_FIELDS, row, strict=True)) for row in await reads.rows(session, statement)]
    return _ACTIVITY.validate_python(latest[::-1])
