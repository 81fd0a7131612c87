"""The inbox page: the view list, the conversation list with its filters, and saving the
filters as a view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from bandeja.core.access import Actor
from bandeja.core.conversations.queries import list_conversations
from bandeja.core.conversations.schemas import ConversationPage
from bandeja.core.errors import InvalidInput
from bandeja.core.views.actions import create_view, delete_view
from bandeja.core.views.schemas import ViewIn, ViewOut
from bandeja.web.deps import Db
from bandeja.web.params import PathId
from bandeja.web.ui import lookups
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.listing import Listing, listing
from bandeja.web.ui.render import is_htmx, render
from bandeja.web.ui.view_counts import views_with_counts

router = APIRouter()
PAGE_SIZE = 50


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


async def list_context(
    db: AsyncSession, actor: Actor, query: QueryParams, *, cursor: str | None = None
) -> dict[str, Any]:
    """What the conversation list shows for this URL."""
    current = await listing(db, actor, query)
    page: ConversationPage = await list_conversations(
        db, actor, current.spec, cursor=cursor, limit=PAGE_SIZE, with_counts=cursor is None
    )
    return {"listing": current, "page": page, "page_size": PAGE_SIZE}


async def menus(db: AsyncSession, actor: Actor) -> dict[str, Any]:
    """The filter form's choices."""
    return {
        "teammates": await lookups.teammates(db, actor, with_channels=False),
        "channels": await lookups.channel_accounts(db, actor),
        "tags": await lookups.tags(db, actor),
    }


def views_by_section(views: list[ViewOut]) -> dict[str, list[ViewOut]]:
    return {
        "builtin": [v for v in views if v.builtin],
        "shared": [v for v in views if not v.builtin and v.shared],
        "personal": [v for v in views if not v.builtin and not v.shared],
    }


async def events_cursor(request: Request, actor: Actor) -> str:
    """The event stream's position now. Read before the page's data, the browser streams from
    it (``live.js``): what is committed while the page renders is replayed, not lost."""
    realtime = request.app.state.realtime
    cursor: str = await realtime.hub.broker.last_id(actor.workspace_id)
    return cursor


async def page_context(
    db: AsyncSession, actor: Actor, query: QueryParams, **known: Any
) -> dict[str, Any]:
    """Everything of the inbox page but the conversation pane (``known``: menus already read)."""
    context = await list_context(db, actor, query)
    context.update(known or await menus(db, actor))
    # Counts that need a scan follow in a moment (views.html asks /inbox/views for them).
    context["views"] = views_by_section(await views_with_counts(db, actor, scans=False))
    return context


@router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
async def inbox(request: Request, db: Db, actor: UiActor) -> Response:
    query = request.query_params
    cursor = query.get("cursor")
    if is_htmx(request):
        if cursor:
            # "Load more": the next rows only, and the next "load more".
            context = await list_context(db, actor, query, cursor=cursor)
            return render(request, "inbox/rows.html", **context)
        # The list alone: the view list keeps its counts (live updates refresh them) and app.js
        # moves its highlight.
        context = await list_context(db, actor, query)
        context.update(await menus(db, actor))
        return render(request, "inbox/list.html", **context)
    stream_from = await events_cursor(request, actor)
    context = await page_context(db, actor, query)
    return render(
        request, "inbox/page.html", conversation=None, events_cursor=stream_from, **context
    )


@router.post("/inbox/views", include_in_schema=False)
async def save_view(
    request: Request,
    db: Db,
    actor: UiActor,
    name: Annotated[str, Form(max_length=200)],
    shared: Annotated[bool, Form()] = False,
    query: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Save the list's current filters (``query``: the list's URL parameters) as a view."""
    current: Listing = await listing(db, actor, QueryParams(query))
    try:
        data = ViewIn(name=name, shared=shared, filters=current.spec)
    except ValidationError as exc:
        raise InvalidInput("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    view = await create_view(db, actor, data)
    await db.commit()
    target = f"/inbox?view={view.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/inbox/views/{view_id}/delete", include_in_schema=False)
async def remove_view(request: Request, db: Db, actor: UiActor, view_id: PathId) -> Response:
    """Delete a saved view (the agent's own, or a shared one for admins); back to the inbox."""
    await delete_view(db, actor, view_id)
    await db.commit()
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": "/inbox"})
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox/views", response_class=HTMLResponse, include_in_schema=False)
async def views(request: Request, db: Db, actor: UiActor, view: str = "") -> Response:
    """The view list alone, with fresh counts (live updates refresh it)."""
    return render(
        request,
        "inbox/views.html",
        views=views_by_section(await views_with_counts(db, actor)),
        current_view=view[:20],
    )
