"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from bandeja import __version__
from bandeja.config import Settings, get_settings
from bandeja.core.conversations.actions import reopen_due_follow_ups
from bandeja.core.security import SecretBox
from bandeja.storage.engine import create_engine, session_factory
from bandeja.web import errors, health
from bandeja.web.api import router as api_router

log = logging.getLogger(__name__)

FOLLOW_UP_EVERY_S = 30


async def _follow_up_loop(app: FastAPI) -> None:
    """Follow-ups whose time has come go back to the open queue, checked every half minute."""
    while True:
        try:
            async with app.state.sessions() as session:
                if await reopen_due_follow_ups(session):
                    await session.commit()
        except Exception:  # keep the loop alive across a passing database error
            log.exception("follow-up check failed")
        await asyncio.sleep(FOLLOW_UP_EVERY_S)


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
        tasks = [asyncio.create_task(_follow_up_loop(app))] if background else []
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if own_engine:
                await engine.dispose()

    app = FastAPI(
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
    errors.install(app)
    app.include_router(health.router)
    app.include_router(api_router, prefix="/api/v1")
    return app
