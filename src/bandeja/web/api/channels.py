from __future__ import annotations

from fastapi import APIRouter, Request

from bandeja.core.channels import actions
from bandeja.core.channels.queries import list_channel_accounts
from bandeja.core.channels.schemas import ChannelAccountIn, ChannelAccountOut
from bandeja.web.deps import CurrentActor, Db

router = APIRouter(prefix="/channel-accounts", tags=["channel accounts"])


def _with_urls(request: Request, channels: list[ChannelAccountOut]) -> list[ChannelAccountOut]:
    settings = request.app.state.settings
    return [
        c.model_copy(update={"webhook_url": settings.webhook_url(c.platform.value, c.id)})
        for c in channels
    ]


@router.get("", summary="Connected channel accounts (agents: those they are members of)")
async def get_channel_accounts(
    request: Request, db: Db, actor: CurrentActor
) -> list[ChannelAccountOut]:
    return _with_urls(request, await list_channel_accounts(db, actor))


@router.post("", status_code=201, summary="Connect a channel account (admins)")
async def post_channel_account(
    body: ChannelAccountIn, request: Request, db: Db, actor: CurrentActor
) -> ChannelAccountOut:
    channel = await actions.create_channel_account(
        db,
        workspace_id=actor.workspace_id,
        data=body,
        box=request.app.state.secret_box,
        actor=actor,
    )
    await db.commit()
    request.app.state.channel_cache.forget(channel.id)
    listed = _with_urls(request, await list_channel_accounts(db, actor))
    return next(c for c in listed if c.id == channel.id)
