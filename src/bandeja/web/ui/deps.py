"""Who is using the UI: the actor from the session cookie, the CSRF check of every unsafe
request, and the language and time zone the pages are shown in.

A page requested without a session redirects to the login form; anything else without one is
refused (401). Unsafe methods need the session's CSRF token, sent by htmx as the
``X-CSRF-Token`` header (set once on ``<body>``) or by a plain form as ``csrf_token``.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request

from bandeja.core.access import Actor, require_admin
from bandeja.core.errors import PermissionDenied, Unauthenticated
from bandeja.core.users.auth import browser_session
from bandeja.web.deps import CSRF_HEADER, SESSION_COOKIE, Db
from bandeja.web.ui import i18n

CSRF_FIELD = "csrf_token"
# The browser's time zone, written by app.js, so that times and follow-up presets are the
# agent's own; the workspace's zone until the browser has said.
TZ_COOKIE = "bandeja_tz"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginRequired(Exception):
    """A page was asked for without a session: answered with a redirect to the login form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


def zone(name: str | None) -> ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not secrets.compare_digest(sent.encode(), expected.encode()):
        raise PermissionDenied("missing or wrong CSRF token; reload the page")


async def ui_actor(request: Request, db: Db) -> Actor:
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        if not cookie:
            raise Unauthenticated("log in first")
        browser = await browser_session(db, cookie)
    except Unauthenticated:
        if request.method in _SAFE_METHODS:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target) from None
        raise
    if request.method not in _SAFE_METHODS:
        await _check_csrf(request, browser.csrf_token)
    actor = browser.actor
    saved_locale, workspace_tz = browser.locale, browser.workspace_timezone
    request.state.actor = actor
    request.state.csrf_token = browser.csrf_token
    request.state.locale = i18n.choose(
        saved_locale,
        request.headers.get("accept-language"),
        request.app.state.settings.default_locale,
    )
    request.state.tz = zone(request.cookies.get(TZ_COOKIE)) or zone(workspace_tz) or ZoneInfo("UTC")
    return actor


UiActor = Annotated[Actor, Depends(ui_actor)]


async def ui_admin(actor: UiActor) -> Actor:
    require_admin(actor)
    return actor


UiAdmin = Annotated[Actor, Depends(ui_admin)]
