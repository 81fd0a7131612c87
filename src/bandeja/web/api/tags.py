from __future__ import annotations

from fastapi import APIRouter

from bandeja.core.tags import actions
from bandeja.core.tags.queries import list_tags
from bandeja.core.tags.schemas import TagIn, TagOut
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", summary="The workspace's tags")
async def get_tags(db: Db, actor: CurrentActor) -> list[TagOut]:
    return [TagOut.model_validate(t) for t in await list_tags(db, actor)]


@router.post("", status_code=201, summary="Create a tag")
async def post_tag(body: TagIn, db: Db, actor: CurrentActor) -> TagOut:
    tag = await actions.create_tag(db, actor, body)
    await db.commit()
    return TagOut.model_validate(tag)


@router.put("/{tag_id}", summary="Rename or regroup a tag (admins)")
async def put_tag(tag_id: PathId, body: TagIn, db: Db, actor: CurrentActor) -> TagOut:
    tag = await actions.update_tag(db, actor, tag_id, body)
    await db.commit()
    return TagOut.model_validate(tag)


@router.delete("/{tag_id}", status_code=204, summary="Delete a tag (admins)")
async def delete_tag(tag_id: PathId, db: Db, actor: CurrentActor) -> None:
    await actions.delete_tag(db, actor, tag_id)
    await db.commit()
