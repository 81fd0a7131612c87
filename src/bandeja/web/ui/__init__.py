"""The web UI: server-rendered pages (Jinja2 + htmx) over the same core actions as the API."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bandeja.web.ui import (
    auth,
    bulk,
    composer,
    contacts,
    conversation,
    inbox,
    live,
    notifications,
    settings,
)
from bandeja.web.ui.deps import LoginRequired, login_url
from bandeja.web.ui.render import STATIC_DIR

router = APIRouter(include_in_schema=False)
for module in (auth, inbox, live, bulk, conversation, composer, contacts, notifications, settings):
    router.include_router(module.router)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = login_url(exc.next_url)
    if request.headers.get("hx-request") == "true":
        # htmx would swap the login page into a pane: make the browser go there instead.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    """Mount the pages and ``/static``."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
