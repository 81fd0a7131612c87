"""Saved replies: anyone writes personal ones; owners and admins write the shared ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, require_admin
from bandeja.core.activity.actions import record
from bandeja.core.errors import Conflict, PermissionDenied
from bandeja.core.events import WorkspaceChanged, emit
from bandeja.core.saved_replies.models import SavedReply, SavedReplyVariant
from bandeja.core.saved_replies.queries import get_saved_reply
from bandeja.core.saved_replies.schemas import SavedReplyIn
from bandeja.core.saved_replies.variables import check_body
from bandeja.storage.base import utcnow


def _check(actor: Actor, data: SavedReplyIn) -> None:
    if data.shared:
        require_admin(actor)
    for variant in data.variants:
        check_body(variant.body)


async def _check_shortcut(
    session: AsyncSession, workspace_id: int, shortcut: str | None, skip: int = 0
) -> None:
    if shortcut is None:
        return
    clash = await session.scalar(
        select(SavedReply.name).where(
            SavedReply.workspace_id == workspace_id,
            SavedReply.shortcut == shortcut,
            SavedReply.id != skip,
        )
    )
    if clash is not None:
        raise Conflict(f"the shortcut /{shortcut} is already used by {clash!r}")


def _may_edit(actor: Actor, reply: SavedReply) -> None:
    if reply.owner_id is None:
        require_admin(actor)
    elif reply.owner_id != actor.user_id:  # not reachable through get_saved_reply; kept as a guard
        raise PermissionDenied("only its author may change a personal saved reply")


def _changed(session: AsyncSession, actor: Actor, shared: bool) -> None:
    # Personal replies concern their author alone: nobody else's picker changes.
    if shared:
        emit(
            session,
            WorkspaceChanged(
                workspace_id=actor.workspace_id, what="saved_replies", actor_user_id=actor.user_id
            ),
        )


def _variants(data: SavedReplyIn) -> list[SavedReplyVariant]:
    return [
        SavedReplyVariant(language=v.language, body=v.body, position=i)
        for i, v in enumerate(data.variants)
    ]


async def create_saved_reply(session: AsyncSession, actor: Actor, data: SavedReplyIn) -> SavedReply:
    _check(actor, data)
    await _check_shortcut(session, actor.workspace_id, data.shortcut)
    reply = SavedReply(
        workspace_id=actor.workspace_id,
        owner_id=None if data.shared else actor.user_id,
        created_by_id=actor.user_id,
        name=data.name,
        shortcut=data.shortcut,
        updated_at=utcnow(),
        variants=_variants(data),
    )
    session.add(reply)
    await session.flush()
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="saved_reply.created",
        actor_user_id=actor.user_id,
        saved_reply_id=reply.id,
        name=reply.name,
        shared=data.shared,
    )
    _changed(session, actor, data.shared)
    return reply


async def update_saved_reply(
    session: AsyncSession, actor: Actor, reply_id: int, data: SavedReplyIn
) -> SavedReply:
    reply = await get_saved_reply(session, actor, reply_id)
    _may_edit(actor, reply)
    _check(actor, data)
    await _check_shortcut(session, actor.workspace_id, data.shortcut, skip=reply.id)
    was_shared = reply.owner_id is None
    reply.name, reply.shortcut = data.name, data.shortcut
    reply.owner_id = None if data.shared else (reply.owner_id or actor.user_id)
    reply.updated_at = utcnow()
    # Replace the variants: the old rows must be gone before new ones reuse their keys.
    reply.variants.clear()
    await session.flush()
    reply.variants.extend(_variants(data))
    await session.flush()
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="saved_reply.updated",
        actor_user_id=actor.user_id,
        saved_reply_id=reply.id,
        name=reply.name,
        shared=data.shared,
    )
    _changed(session, actor, data.shared or was_shared)
    return reply


async def delete_saved_reply(session: AsyncSession, actor: Actor, reply_id: int) -> None:
    reply = await get_saved_reply(session, actor, reply_id)
    _may_edit(actor, reply)
    shared = reply.owner_id is None
    await session.delete(reply)
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="saved_reply.deleted",
        actor_user_id=actor.user_id,
        saved_reply_id=reply_id,
        name=reply.name,
    )
    _changed(session, actor, shared)
