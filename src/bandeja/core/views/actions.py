from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.actions import record
from bandeja.core.errors import NotFound, PermissionDenied
from bandeja.core.events import WorkspaceChanged, emit
from bandeja.core.views.models import View
from bandeja.core.views.schemas import ViewIn


async def get_view(session: AsyncSession, actor: Actor, view_id: int) -> View:
    """A view the actor may use: their own, or a shared one of their workspace."""
    view = await session.get(View, view_id)
    if (
        view is None
        or view.workspace_id != actor.workspace_id
        or (not view.shared and view.owner_id != actor.user_id)
    ):
        raise NotFound(f"view {view_id} not found")
    return view


def may_edit(actor: Actor, view: View) -> bool:
    """Personal views belong to their owner; shared views are edited by their owner or admins."""
    return view.owner_id == actor.user_id or (view.shared and actor.is_admin)


def _check_may_edit(actor: Actor, view: View) -> None:
    if not may_edit(actor, view):
        raise PermissionDenied("only the owner or an admin may change this view")


def _emit(session: AsyncSession, actor: Actor, view: View, verb: str) -> None:
    record(
        session,
        workspace_id=actor.workspace_id,
        verb=verb,
        actor_user_id=actor.user_id,
        view_id=view.id,
        name=view.name,
    )
    emit(
        session,
        WorkspaceChanged(
            workspace_id=actor.workspace_id,
            what="views",
            actor_user_id=actor.user_id,
            user_ids=None if view.shared else [view.owner_id],
        ),
    )


async def create_view(session: AsyncSession, actor: Actor, data: ViewIn) -> View:
    view = View(
        workspace_id=actor.workspace_id,
        owner_id=actor.user_id,
        name=data.name,
        shared=data.shared,
        position=data.position,
        filters=data.filters.model_dump(mode="json", exclude_defaults=True),
    )
    session.add(view)
    await session.flush()
    _emit(session, actor, view, "view.created")
    return view


async def update_view(session: AsyncSession, actor: Actor, view_id: int, data: ViewIn) -> View:
    view = await get_view(session, actor, view_id)
    _check_may_edit(actor, view)
    view.name, view.shared, view.position = data.name, data.shared, data.position
    view.filters = data.filters.model_dump(mode="json", exclude_defaults=True)
    _emit(session, actor, view, "view.updated")
    return view


async def delete_view(session: AsyncSession, actor: Actor, view_id: int) -> None:
    view = await get_view(session, actor, view_id)
    _check_may_edit(actor, view)
    await session.delete(view)
    _emit(session, actor, view, "view.deleted")
