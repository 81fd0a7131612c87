from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from bandeja.core.types import Text
from bandeja.core.users.auth import login, logout
from bandeja.web.deps import SESSION_COOKIE, CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Text = Field(min_length=3, max_length=320)
    password: Text = Field(min_length=1, max_length=1000)
    workspace: Text | None = Field(None, description="Workspace slug; default: the first one.")


class Me(BaseModel):
    user_id: PathId
    workspace_id: int
    role: str
    name: str
    csrf_token: str | None = None


@router.post("/login", summary="Log in; sets the session cookie and returns the CSRF token")
async def post_login(body: LoginIn, request: Request, response: Response, db: Db) -> Me:
    settings = request.app.state.settings
    browser = await login(
        db,
        email=body.email,
        password=body.password,
        workspace_slug=body.workspace,
        lifetime=timedelta(days=settings.session_days),
    )
    await db.commit()
    response.set_cookie(
        SESSION_COOKIE,
        browser.token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    actor = browser.actor
    return Me(
        user_id=actor.user_id,
        workspace_id=actor.workspace_id,
        role=actor.role.value,
        name=actor.name,
        csrf_token=browser.csrf_token,
    )


@router.post("/logout", status_code=204, summary="End the browser session")
async def post_logout(request: Request, response: Response, db: Db, _actor: CurrentActor) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await logout(db, token)
        await db.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", summary="Who is calling")
async def get_me(request: Request, actor: CurrentActor) -> Me:
    return Me(
        user_id=actor.user_id,
        workspace_id=actor.workspace_id,
        role=actor.role.value,
        name=actor.name,
        csrf_token=getattr(request.state, "csrf_token", None),
    )
