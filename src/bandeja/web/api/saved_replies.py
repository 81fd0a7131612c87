"""Saved replies: canned answers per language, with variables filled for a conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from bandeja.config import Settings
from bandeja.core.saved_replies import actions
from bandeja.core.saved_replies.queries import (
    get_saved_reply,
    list_saved_replies,
    render_saved_reply,
    saved_reply_out,
)
from bandeja.core.saved_replies.schemas import RenderedOut, RenderIn, SavedReplyIn, SavedReplyOut
from bandeja.core.types import Text
from bandeja.web.deps import CurrentActor, Db, get_settings
from bandeja.web.params import PathId

router = APIRouter(prefix="/saved-replies", tags=["saved replies"])

AppSettings = Annotated[Settings, Depends(get_settings)]


@router.get("", summary="Saved replies the actor can use (shared and their own)")
async def get_saved_replies(
    db: Db,
    actor: CurrentActor,
    q: Annotated[Text | None, Query(max_length=100, description="Name or shortcut")] = None,
) -> list[SavedReplyOut]:
    return [saved_reply_out(r) for r in await list_saved_replies(db, actor, q)]


@router.post("", status_code=201, summary="Create a saved reply (shared: admins)")
async def post_saved_reply(body: SavedReplyIn, db: Db, actor: CurrentActor) -> SavedReplyOut:
    reply = await actions.create_saved_reply(db, actor, body)
    await db.commit()
    return saved_reply_out(reply)


@router.get("/{reply_id}", summary="One saved reply")
async def get_one(reply_id: PathId, db: Db, actor: CurrentActor) -> SavedReplyOut:
    return saved_reply_out(await get_saved_reply(db, actor, reply_id))


@router.put("/{reply_id}", summary="Replace a saved reply (shared: admins)")
async def put_saved_reply(
    reply_id: PathId, body: SavedReplyIn, db: Db, actor: CurrentActor
) -> SavedReplyOut:
    reply = await actions.update_saved_reply(db, actor, reply_id, body)
    await db.commit()
    return saved_reply_out(reply)


@router.delete("/{reply_id}", status_code=204, summary="Delete a saved reply (shared: admins)")
async def delete_saved_reply(reply_id: PathId, db: Db, actor: CurrentActor) -> None:
    await actions.delete_saved_reply(db, actor, reply_id)
    await db.commit()


@router.post(
    "/{reply_id}/render",
    summary="The reply's text for a conversation: its contact's language, variables filled",
)
async def post_render(
    reply_id: PathId, body: RenderIn, db: Db, actor: CurrentActor, settings: AppSettings
) -> RenderedOut:
    return await render_saved_reply(
        db, actor, reply_id, body.conversation_id, default_language=settings.default_locale
    )
