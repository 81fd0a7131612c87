from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, require_admin
from bandeja.core.activity.actions import record
from bandeja.core.errors import Conflict, NotFound
from bandeja.core.events import WorkspaceChanged, emit
from bandeja.core.tags.models import Tag
from bandeja.core.tags.schemas import TagIn


async def _check_unique(session: AsyncSession, workspace_id: int, name: str, skip: int = 0) -> None:
    clash = await session.scalar(
        select(Tag.id).where(
            Tag.workspace_id == workspace_id, func.lower(Tag.name) == name.lower(), Tag.id != skip
        )
    )
    if clash:
        raise Conflict(f"a tag named {name!r} already exists")


async def get_tag(session: AsyncSession, actor: Actor, tag_id: int) -> Tag:
    tag = await session.get(Tag, tag_id)
    if tag is None or tag.workspace_id != actor.workspace_id:
        raise NotFound(f"tag {tag_id} not found")
    return tag


async def create_tag(session: AsyncSession, actor: Actor, data: TagIn) -> Tag:
    """Agents may create tags while triaging (as in every inbox); admins rename and delete."""
    await _check_unique(session, actor.workspace_id, data.name)
    tag = Tag(workspace_id=actor.workspace_id, name=data.name, group=data.group, color=data.color)
    session.add(tag)
    await session.flush()
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="tag.created",
        actor_user_id=actor.user_id,
        tag_id=tag.id,
        name=tag.name,
    )
    emit(
        session,
        WorkspaceChanged(workspace_id=actor.workspace_id, what="tags", actor_user_id=actor.user_id),
    )
    return tag


async def update_tag(session: AsyncSession, actor: Actor, tag_id: int, data: TagIn) -> Tag:
    require_admin(actor)
    tag = await get_tag(session, actor, tag_id)
    await _check_unique(session, actor.workspace_id, data.name, skip=tag.id)
    tag.name, tag.group, tag.color = data.name, data.group, data.color
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="tag.updated",
        actor_user_id=actor.user_id,
        tag_id=tag.id,
        name=tag.name,
    )
    emit(
        session,
        WorkspaceChanged(workspace_id=actor.workspace_id, what="tags", actor_user_id=actor.user_id),
    )
    return tag


async def delete_tag(session: AsyncSession, actor: Actor, tag_id: int) -> None:
    require_admin(actor)
    tag = await get_tag(session, actor, tag_id)
    await session.delete(tag)
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="tag.deleted",
        actor_user_id=actor.user_id,
        tag_id=tag_id,
        name=tag.name,
    )
    emit(
        session,
        WorkspaceChanged(workspace_id=actor.workspace_id, what="tags", actor_user_id=actor.user_id),
    )
