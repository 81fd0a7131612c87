"""The notification bell's panel: my latest mentions and assignments, each naming the teammate
and the conversation. The badge and marking read go through the JSON API
(``/api/v1/notifications``), which ``notifications.js`` calls."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bandeja.core.conversations.queries import conversation_rows
from bandeja.core.notifications.queries import list_notifications
from bandeja.web.deps import Db
from bandeja.web.ui import lookups
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.render import render

router = APIRouter()
PANEL_SIZE = 20


@router.get("/ui/notifications", response_class=HTMLResponse, include_in_schema=False)
async def panel(request: Request, db: Db, actor: UiActor) -> HTMLResponse:
    page = await list_notifications(db, actor, limit=PANEL_SIZE)
    # A conversation I may no longer see keeps its notification, without its name or link.
    rows = await conversation_rows(db, actor, [n.conversation_id for n in page.items])
    names = {t.id: t.name for t in await lookups.teammates(db, actor, with_channels=False)}
    return render(
        request,
        "notifications/panel.html",
        page=page,
        conversations={c.id: c for c in rows},
        names=names,
    )
