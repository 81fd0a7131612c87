"""The contact panel beside a conversation: the person's identities across platforms (with the
consent each platform reported), their other conversations, and merging a duplicate contact.
Only what the actor may see: agents see identities and conversations on their channel accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from bandeja.core.access import Actor
from bandeja.core.contacts.actions import merge_contacts
from bandeja.core.contacts.identities import identities_of
from bandeja.core.contacts.queries import (
    contact_detail,
    get_contact,
    identity_labels,
    search_contacts,
)
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import InvalidInput
from bandeja.core.types import MAX_ID
from bandeja.web.deps import Db
from bandeja.web.params import PathId
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.render import render

router = APIRouter()

FormId = Annotated[int, Form(ge=1, le=MAX_ID)]


async def _panel(
    request: Request,
    db: Db,
    actor: Actor,
    conversation_id: int,
    *,
    error: str | None = None,
    merged: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    conversation = await get_conversation(db, actor, conversation_id)
    detail = await contact_detail(db, actor, conversation.contact_id)
    identities = await identities_of(db, actor, conversation.contact_id)
    return render(
        request,
        "contacts/panel.html",
        status_code=status_code,
        headers=headers,
        conversation_id=conversation_id,
        contact=detail,
        identities=identities,
        error=error,
        merged=merged,
    )


@router.get("/inbox/c/{conversation_id}/contact")
async def get_contact_panel(
    conversation_id: PathId, request: Request, db: Db, actor: UiActor
) -> HTMLResponse:
    return await _panel(request, db, actor, conversation_id)


@router.get("/ui/contacts")
async def get_merge_candidates(
    request: Request,
    db: Db,
    actor: UiActor,
    exclude: Annotated[int, Query(ge=1, le=MAX_ID)],
    conversation: Annotated[int, Query(ge=1, le=MAX_ID)],
    q: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """Contacts to merge into this one, found by name (none until something is typed)."""
    found = [c for c in await search_contacts(db, actor, q, limit=11) if c.id != exclude][:10]
    found = found if q.strip() else []
    return render(
        request,
        "contacts/candidates.html",
        candidates=found,
        identities=await identity_labels(db, actor, [c.id for c in found]),
        target_id=exclude,
        conversation_id=conversation,
        q=q,
    )


@router.post("/contacts/{contact_id}/merge")
async def post_merge(
    contact_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    source_id: FormId,
    conversation_id: FormId,
) -> HTMLResponse:
    """Merge ``source_id`` into this contact; answers with the refreshed panel."""
    try:
        source_name = (await get_contact(db, actor, source_id)).name
        await merge_contacts(db, actor, contact_id, source_id)
    except InvalidInput as exc:
        await db.rollback()
        return await _panel(request, db, actor, conversation_id, error=exc.message, status_code=422)
    await db.commit()
    return await _panel(
        request,
        db,
        actor,
        conversation_id,
        merged=source_name,
        headers={"HX-Trigger": "thread-changed"},
    )
