from __future__ import annotations

from fastapi import APIRouter

from bandeja.core.views import actions
from bandeja.core.views.queries import list_views, view_out
from bandeja.core.views.schemas import ViewIn, ViewOut
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/views", tags=["views"])


@router.get("", summary="Built-in and saved views, each with its count")
async def get_views(db: Db, actor: CurrentActor, counts: bool = True) -> list[ViewOut]:
    return await list_views(db, actor, with_counts=counts)


@router.post("", status_code=201, summary="Save a view (personal, or shared with the workspace)")
async def post_view(body: ViewIn, db: Db, actor: CurrentActor) -> ViewOut:
    view = await actions.create_view(db, actor, body)
    await db.commit()
    return view_out(view)


@router.put("/{view_id}", summary="Change a saved view")
async def put_view(view_id: PathId, body: ViewIn, db: Db, actor: CurrentActor) -> ViewOut:
    view = await actions.update_view(db, actor, view_id, body)
    await db.commit()
    return view_out(view)


@router.delete("/{view_id}", status_code=204, summary="Delete a saved view")
async def delete_view(view_id: PathId, db: Db, actor: CurrentActor) -> None:
    await actions.delete_view(db, actor, view_id)
    await db.commit()
