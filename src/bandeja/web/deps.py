"""Request dependencies: a database session, and the authenticated actor."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.config import Settings
from bandeja.core.access import Actor
from bandeja.core.errors import PermissionDenied, Unauthenticated
from bandeja.core.users.auth import actor_for_token, browser_session

SESSION_COOKIE = "bandeja_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. Routes commit explicitly; anything uncommitted is rolled back."""
    async with request.app.state.sessions() as session:
        yield session


Db = Annotated[AsyncSession, Depends(get_db)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_actor(request: Request, db: Db) -> Actor:
    """Bearer token (API clients) or session cookie (browser; unsafe methods need CSRF)."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        actor = await actor_for_token(db, token.strip())
        # Keeps the occasional last_used_at update; the route's own transaction starts afresh.
        await db.commit()
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("log in, or send an API token")
    browser = await browser_session(db, cookie)
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), browser.csrf_token.encode()):
            raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header")
    request.state.csrf_token = browser.csrf_token
    return browser.actor


CurrentActor = Annotated[Actor, Depends(get_actor)]
