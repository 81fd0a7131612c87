"""The live event stream (Server-Sent Events) and presence (who is viewing or typing)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import Unauthenticated
from bandeja.core.types import DbId
from bandeja.realtime.audience import Audience, load_audience
from bandeja.realtime.schemas import PresenceState
from bandeja.realtime.service import Realtime
from bandeja.web.deps import CurrentActor, Db, get_actor

router = APIRouter(tags=["realtime"])

STREAM_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    # nginx: pass each event on at once instead of buffering the response.
    "X-Accel-Buffering": "no",
}


def _realtime(request: Request) -> Realtime:
    realtime: Realtime = request.app.state.realtime
    return realtime


@router.get(
    "/events/stream",
    summary="Live events (text/event-stream); resume with the Last-Event-ID header",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def event_stream(
    request: Request,
    last_event_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Where to start when the browser sends no Last-Event-ID header yet "
            "(the cursor the page was rendered with, see /events/cursor).",
        ),
    ] = None,
) -> StreamingResponse:
    sessions = request.app.state.sessions
    # A short session for the login check: the stream may stay open for hours and must not
    # hold a database connection.
    async with sessions() as db:
        actor = await get_actor(request, db)
        audience = await load_audience(db, actor)
    if audience is None:
        raise Unauthenticated("not a member of this workspace any more")
    realtime = _realtime(request)
    cursor = request.headers.get("last-event-id") or last_event_id

    async def refresh() -> Audience | None:
        async with sessions() as db:
            return await load_audience(db, actor)

    async def body() -> AsyncIterator[bytes]:
        # Registered inside the body, so that the ``finally`` always unregisters it: Starlette
        # cancels this generator when the client goes away.
        sub = await realtime.hub.open(audience, cursor)
        try:
            async for chunk in sub.frames(refresh):
                yield chunk
        finally:
            await realtime.hub.close(sub)

    return StreamingResponse(body(), media_type="text/event-stream", headers=STREAM_HEADERS)


class Cursor(BaseModel):
    last_event_id: str


@router.get(
    "/events/cursor", summary="The id of the newest event (render a page, then stream from it)"
)
async def event_cursor(request: Request, actor: CurrentActor) -> Cursor:
    return Cursor(last_event_id=await _realtime(request).hub.broker.last_id(actor.workspace_id))


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: DbId
    state: PresenceState | None = Field(
        ...,
        description="viewing, typing_reply or typing_note; null: I left the conversation. "
        "Send it again every few seconds while it holds (entries expire after ~20 s).",
    )


class PresenceOut(BaseModel):
    conversation_id: int
    user_id: int
    name: str
    state: PresenceState
    expires_in_s: float


class PresenceList(BaseModel):
    ttl_s: float
    items: list[PresenceOut]


@router.post("/presence", status_code=204, summary="Report that I view or type in a conversation")
async def post_presence(body: PresenceIn, request: Request, db: Db, actor: CurrentActor) -> None:
    conversation = await get_conversation(db, actor, body.conversation_id)
    channel_account_id, conversation_id = conversation.channel_account_id, conversation.id
    await db.rollback()  # nothing to write; give the connection back before talking to Redis
    await _realtime(request).presence.report(
        workspace_id=actor.workspace_id,
        channel_account_id=channel_account_id,
        conversation_id=conversation_id,
        user_id=actor.user_id,
        name=actor.name,
        state=body.state,
    )


@router.get("/presence", summary="Who is viewing or typing (in these conversations, or anywhere)")
async def get_presence(
    request: Request,
    db: Db,
    actor: CurrentActor,
    conversation: Annotated[
        list[DbId] | None, Query(max_length=200, description="Conversation ids")
    ] = None,
) -> PresenceList:
    realtime = _realtime(request)
    entries = await realtime.presence.store.entries(actor.workspace_id, conversation)
    if not actor.is_admin:
        audience = await load_audience(db, actor)
        allowed = audience.channel_account_ids if audience else frozenset()
        entries = [e for e in entries if e.channel_account_id in allowed]
    now = time.time()
    return PresenceList(
        ttl_s=realtime.presence.ttl,
        items=[
            PresenceOut(
                conversation_id=e.conversation_id,
                user_id=e.user_id,
                name=e.name,
                state=e.state,
                expires_in_s=round(e.expires_at - now, 1),
            )
            for e in sorted(entries, key=lambda e: (e.conversation_id, e.user_id))
        ],
    )
