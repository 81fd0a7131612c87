"""The live list: what ``live.js`` asks for when the event stream says that conversations
changed. The list's first page again (to re-sort it in place), or only some of its rows (to
update them where they stand while the agent is busy with the list)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bandeja.core.conversations.queries import conversation_rows, list_conversations
from bandeja.core.types import DbId
from bandeja.web.deps import Db
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.inbox import PAGE_SIZE
from bandeja.web.ui.listing import listing
from bandeja.web.ui.render import render

router = APIRouter()


@router.get("/inbox/rows", response_class=HTMLResponse, include_in_schema=False)
async def live_rows(
    request: Request,
    db: Db,
    actor: UiActor,
    ids: Annotated[list[DbId] | None, Query(alias="id", max_length=PAGE_SIZE)] = None,
) -> HTMLResponse:
    """``/inbox/rows?<the list's parameters>``: the first page's rows and the list's total;
    with ``id=…``: those rows alone (the ones I may not see are left out)."""
    current = await listing(db, actor, request.query_params)
    if ids:
        items = await conversation_rows(db, actor, ids)
        return render(request, "inbox/live_rows.html", listing=current, items=items, page=None)
    page = await list_conversations(db, actor, current.spec, limit=PAGE_SIZE, with_counts=True)
    return render(request, "inbox/live_rows.html", listing=current, page=page, items=None)
