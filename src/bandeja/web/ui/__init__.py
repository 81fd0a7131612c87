"""The web UI: server-rendered pages (Jinja2 + htmx) over the same core actions as the API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bandeja.core.errors import DomainError
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
from bandeja.web.ui.render import STATIC_DIR, render

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


def _opens_a_page(request: Request) -> bool:
    """A browser navigating to a page of the UI (a bookmark, a stale link, the address bar), as
    opposed to htmx, a script or an API client, which all read the JSON error."""
    return (
        request.method == "GET"
        and request.headers.get("hx-request") != "true"
        and not request.url.path.startswith(("/api/", "/webhooks/", "/static/"))
        and "text/html" in request.headers.get("accept", "")
    )


ErrorHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def _page_or_json(as_json: ErrorHandler) -> ErrorHandler:
    """Wrap a JSON error handler of ``web.errors``: a refused page navigation shows a page with
    the reason and a way back, not a JSON body in the browser's window."""

    async def handler(request: Request, exc: Exception) -> Response:
        answer = as_json(request, exc)
        if isinstance(answer, Awaitable):
            answer = await answer
        if not _opens_a_page(request):
            return answer
        message = json.loads(bytes(answer.body))["error"]["message"]
        return render(
            request,
            "error.html",
            status_code=answer.status_code,
            status=answer.status_code,
            message=message,
        )

    return handler


def install(app: FastAPI) -> None:
    """Mount the pages and ``/static``."""
    app.add_exception_handler(LoginRequired, _login_required)
    for exc_class in (DomainError, RequestValidationError):
        app.add_exception_handler(exc_class, _page_or_json(app.exception_handlers[exc_class]))
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
