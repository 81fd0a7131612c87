from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.tags.models import Tag


async def list_tags(session: AsyncSession, actor: Actor) -> list[Tag]:
    rows = await session.execute(
        select(Tag).where(Tag.workspace_id == actor.workspace_id).order_by(Tag.group, Tag.name)
    )
    return list(rows.scalars())
