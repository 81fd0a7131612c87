"""What the composer may do now in a conversation (limits, window, why a reply is refused)."""

from __future__ import annotations

from fastapi import APIRouter

from bandeja.channels.compose import ComposeRules
from bandeja.core.outbox.compose import ComposeOut, compose_context
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(tags=["replies"])


@router.get(
    "/conversations/{conversation_id}/compose",
    summary="The platform's limits for a reply now: length and unit, window, refusal reason",
)
async def get_compose(conversation_id: PathId, db: Db, actor: CurrentActor) -> ComposeOut:
    return await compose_context(db, actor, conversation_id, ComposeRules())
