"""Log in and out, and the agent's language and time zone."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bandeja.core.errors import InvalidInput, PermissionDenied, Unauthenticated
from bandeja.core.users.actions import update_member
from bandeja.core.users.auth import login, logout
from bandeja.core.users.schemas import UserPatch
from bandeja.web.deps import SESSION_COOKIE, Db
from bandeja.web.ui import i18n
from bandeja.web.ui.deps import TZ_COOKIE, UiActor, zone
from bandeja.web.ui.render import render

router = APIRouter()
# Login forms get their own CSRF token (double submit: cookie + field), since there is no
# session yet to hold one: a page elsewhere cannot log a browser into another account.
LOGIN_CSRF_COOKIE = "bandeja_login_csrf"


def safe_next(value: str | None) -> str:
    """Only a path of this site: never an open redirect to another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/inbox"
    return value


def _login_page(request: Request, *, next_url: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        next_url=next_url,
        error=error,
    )
    settings = request.app.state.settings
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_url=safe_next(next), error=None, status=200)


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    db: Db,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token.encode(), expected.encode()):
        raise PermissionDenied("the login form expired; reload the page")
    settings = request.app.state.settings
    try:
        browser = await login(
            db,
            email=email,
            password=password,
            workspace_slug=None,
            lifetime=timedelta(days=settings.session_days),
        )
    except Unauthenticated:
        return _login_page(request, next_url=safe_next(next), error="wrong", status=401)
    await db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        browser.token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
async def logout_submit(request: Request, db: Db, _actor: UiActor) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await logout(db, token)
        await db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/ui/locale", include_in_schema=False)
async def set_locale(
    request: Request,
    db: Db,
    actor: UiActor,
    locale: Annotated[str, Form(max_length=8)],
    back: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> Response:
    """Save the agent's language; every page after this one is in it."""
    if locale not in i18n.LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(i18n.LANGUAGES)}")
    await update_member(db, actor, actor.user_id, UserPatch(locale=locale))
    await db.commit()
    target = safe_next(back)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/ui/timezone", include_in_schema=False)
async def set_timezone(
    request: Request,
    _actor: UiActor,
    tz: Annotated[str, Form(max_length=64)],
) -> Response:
    """The browser's time zone (sent once by app.js), kept in a cookie for this browser."""
    if zone(tz) is None:
        raise InvalidInput("unknown time zone")
    response = Response(status_code=204)
    response.set_cookie(
        TZ_COOKIE,
        tz,
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )
    return response
