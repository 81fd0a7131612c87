"""The ASGI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send

from bandeja import __version__
from bandeja.config import Settings, get_settings
from bandeja.core.ingest.recorder import recorder_for
from bandeja.core.security import SecretBox
from bandeja.jobs.runner import Workers, settle_heap
from bandeja.realtime.service import build_realtime
from bandeja.storage.engine import create_engine, session_factory
from bandeja.web import errors, health, hooks, ui
from bandeja.web.api import router as api_router

log = logging.getLogger(__name__)

# Deliveries per ingest batch when the workers run inside `bandeja serve` (see the lifespan).
IN_PROCESS_INGEST_BATCH = 25


class Bandeja(FastAPI):
    """The application: FastAPI, except that webhooks are answered before any of its layers
    (``hooks.py`` says why)."""

    platform_webhooks: hooks.Webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(hooks.PREFIX):
            await self.platform_webhooks(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    background: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    own_engine = engine is None
    engine = engine or create_engine(
        settings.effective_database_url,
        pool_size=settings.database_pool_size,
        echo=settings.database_echo,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The ingest and send workers run in this process unless they run apart
        # (`bandeja worker`, BANDEJA_WORKERS_IN_PROCESS=false).
        await app.state.realtime.start()
        workers = None
        if background and settings.workers_in_process:
            workers = Workers(
                app.state.sessions,
                app.state.secret_box,
                ingest_pace=settings.ingest_pace,
                # Sharing the event loop with the webhook endpoint: a batch's CPU-bound stretch
                # (parsing, the flush at its end) holds up the acknowledgements waiting behind
                # it, so batches are smaller than in a worker process of its own.
                ingest_batch=IN_PROCESS_INGEST_BATCH,
            )
            workers.start()
            app.state.workers = workers
        settle_heap()
        try:
            yield
        finally:
            if workers is not None:
                await workers.stop()
            await app.state.realtime.stop()
            await app.state.recorder.close()
            if own_engine:
                await engine.dispose()

    app = Bandeja(
        title="Bandeja",
        version=__version__,
        description="Unified social inbox: every DM, comment and mention in one team inbox.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.secret_box = SecretBox(settings.resolved_secret_key())
    app.state.channel_cache = hooks.ChannelCache(app.state.sessions, app.state.secret_box)
    # How the webhook route stores a delivery (PostgreSQL: one insert on a pool of its own).
    app.state.recorder = recorder_for(
        engine.url, app.state.sessions, pool_size=settings.database_pool_size
    )
    app.state.workers = None
    # Live events and presence: started by the lifespan (in-process, or over Redis).
    app.state.realtime = build_realtime(settings)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(api_router, prefix="/api/v1")
    ui.install(app)
    app.platform_webhooks = hooks.Webhooks(app.state)
    return app
