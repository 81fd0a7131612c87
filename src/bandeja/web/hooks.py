"""Webhooks: ``/webhooks/<platform>/<channel-account-id>``.

Hostile until proven otherwise: the signature is checked on the raw body, in constant time,
before anything else. A verified delivery is stored (one insert) before the platform gets its 2xx;
the ingest worker does the rest. Platforms retry for hours on a non-2xx and Meta unsubscribes an
endpoint that keeps failing, so this path stays small and fast.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bandeja.channels.base import ChannelConfig, WebhookRejected
from bandeja.channels.config import channel_config
from bandeja.channels.registry import connector_for
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.ingest.actions import count_ignored, record_raw_event
from bandeja.core.security import SecretBox

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # platforms send kilobytes; anything bigger is not theirs
CACHE_TTL_S = 30.0


@dataclass
class _Cached:
    config: ChannelConfig
    expires: float


class ChannelCache:
    """Channel accounts with decrypted secrets, kept briefly: a webhook should not pay a query
    and a decryption before it even knows the signature is right."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
        self.sessions = sessions
        self.box = box
        self._entries: dict[int, _Cached] = {}

    async def get(self, channel_id: int) -> ChannelConfig | None:
        now = time.monotonic()
        cached = self._entries.get(channel_id)
        if cached is not None and cached.expires > now:
            return cached.config
        async with self.sessions() as session:
            channel = await session.get(ChannelAccount, channel_id)
            config = channel_config(channel, self.box) if channel else None
        if config is None:
            self._entries.pop(channel_id, None)
            return None
        self._entries[channel_id] = _Cached(config, now + CACHE_TTL_S)
        return config

    def forget(self, channel_id: int) -> None:
        self._entries.pop(channel_id, None)


def _not_found() -> Response:
    return PlainTextResponse("unknown webhook", status_code=404)


async def webhook(request: Request) -> Response:
    try:
        platform = Platform(request.path_params["platform"])
        channel_id = int(request.path_params["channel_id"])
    except ValueError:
        return _not_found()
    cache: ChannelCache = request.app.state.channel_cache
    config = await cache.get(channel_id)
    if config is None or config.platform is not platform:
        return _not_found()
    connector = connector_for(platform)
    if request.method == "GET":
        reply = connector.handshake(config, request.query_params)
        if reply is None:
            return PlainTextResponse("no handshake on this platform", status_code=405)
        return Response(reply.body, status_code=reply.status, media_type=reply.media_type)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return PlainTextResponse("body too large", status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY:
        return PlainTextResponse("body too large", status_code=413)
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    try:
        connector.verify(config, request.headers, body)
    except WebhookRejected as exc:
        # Counted, never stored: an unsigned body is not evidence of anything.
        async with sessions() as session:
            await count_ignored(session, channel_id, f"rejected:{exc.reason}")
            await session.commit()
        return PlainTextResponse(exc.reason, status_code=exc.status)
    async with sessions() as session:
        await record_raw_event(
            session,
            channel_account_id=config.id,
            workspace_id=config.workspace_id,
            platform=platform.value,
            body=body,
            headers=request.headers,
        )
        await session.commit()
    workers = getattr(request.app.state, "workers", None)
    if workers is not None:
        workers.ingest.wake.set()
    return PlainTextResponse("ok")


routes = [Route("/webhooks/{platform}/{channel_id}", webhook, methods=["GET", "POST"])]
