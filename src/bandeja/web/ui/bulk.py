"""Bulk actions on the conversations picked in the list: assign, tag, complete.

All or nothing: one conversation the actor may not see, or one refused change, and none of
them changes (one transaction). The answer is the list again, as its URL (``back``) shows it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from bandeja.core.conversations import actions
from bandeja.core.errors import InvalidInput
from bandeja.core.types import MAX_ID
from bandeja.web.deps import Db
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.inbox import list_context, menus, views_by_section
from bandeja.web.ui.render import render
from bandeja.web.ui.view_counts import views_with_counts

router = APIRouter()
MAX_BULK = 200


def _ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise InvalidInput("ids must be conversation ids")
        ids.append(int(value))
    if not ids:
        raise InvalidInput("pick at least one conversation")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} conversations at once")
    return list(dict.fromkeys(ids))


@router.post("/inbox/bulk", include_in_schema=False)
async def bulk(
    request: Request,
    db: Db,
    actor: UiActor,
    action: Annotated[Literal["assign", "tag", "complete"], Form()],
    ids: Annotated[list[str], Form(max_length=MAX_BULK + 1)],
    value: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """``value``: for assign "me", a user id or "none"; for tag a tag id."""
    conversation_ids = _ids(ids)
    for conversation_id in conversation_ids:
        if action == "complete":
            await actions.complete(db, actor, conversation_id)
        elif action == "assign":
            if value == "me":
                assignee: int | None = actor.user_id
            elif value == "none":
                assignee = None
            elif value.isdigit() and 1 <= int(value) <= MAX_ID:
                assignee = int(value)
            else:
                raise InvalidInput("choose whom to assign to")
            await actions.assign(db, actor, conversation_id, assignee)
        else:
            if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
                raise InvalidInput("choose a tag")
            await actions.change_tags(db, actor, conversation_id, add=[int(value)])
    await db.commit()
    query = QueryParams(back)
    context = await list_context(db, actor, query)
    context.update(await menus(db, actor))
    context["views"] = views_by_section(await views_with_counts(db, actor))
    context["done"] = len(conversation_ids)
    return render(request, "inbox/list_partial.html", **context)
