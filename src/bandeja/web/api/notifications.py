"""My notifications (mentions, assignments): the list, the unread badge, marking read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bandeja.core.notifications import actions
from bandeja.core.notifications.queries import list_notifications, unread_count
from bandeja.core.notifications.schemas import NotificationPage
from bandeja.core.types import MAX_ID, DbId
from bandeja.web.deps import CurrentActor, Db

router = APIRouter(prefix="/notifications", tags=["notifications"])


class Unread(BaseModel):
    unread: int


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[DbId] | None = Field(None, max_length=500, description="These notifications")
    all: bool = Field(False, description="Every notification of mine")

    @model_validator(mode="after")
    def _one_of(self) -> ReadIn:
        if (self.ids is None) == (not self.all):
            raise ValueError('send either "ids" or "all": true')
        return self


@router.get("", summary="My notifications, newest first")
async def get_notifications(
    db: Db,
    actor: CurrentActor,
    unread: Annotated[bool, Query(description="Only unread ones")] = False,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="next_before of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    return await list_notifications(db, actor, before=before, limit=limit, unread_only=unread)


@router.get("/unread", summary="How many of my notifications are unread (the badge)")
async def get_unread(db: Db, actor: CurrentActor) -> Unread:
    return Unread(unread=await unread_count(db, actor.workspace_id, actor.user_id))


@router.post("/read", summary="Mark some or all of my notifications read")
async def post_read(body: ReadIn, db: Db, actor: CurrentActor) -> Unread:
    unread = await actions.mark_read(db, actor, None if body.all else body.ids)
    await db.commit()
    return Unread(unread=unread)
