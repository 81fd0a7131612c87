from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from bandeja.core.contacts import actions
from bandeja.core.contacts.queries import contact_detail, search_contacts
from bandeja.core.contacts.schemas import ContactDetail, ContactOut, ContactPatch, MergeIn
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.get("", summary="Find contacts by name")
async def get_contacts(
    db: Db,
    actor: CurrentActor,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ContactOut]:
    return await search_contacts(db, actor, q, limit)


@router.get("/{contact_id}", summary="A contact: identities across platforms and history")
async def get_contact(contact_id: PathId, db: Db, actor: CurrentActor) -> ContactDetail:
    return await contact_detail(db, actor, contact_id)


@router.patch("/{contact_id}", summary="Rename a contact or set their language")
async def patch_contact(
    contact_id: PathId, body: ContactPatch, db: Db, actor: CurrentActor
) -> ContactDetail:
    await actions.update_contact(db, actor, contact_id, name=body.name, language=body.language)
    await db.commit()
    return await contact_detail(db, actor, contact_id)


@router.post("/{contact_id}/merge", summary="Merge another contact into this one")
async def post_merge(
    contact_id: PathId, body: MergeIn, db: Db, actor: CurrentActor
) -> ContactDetail:
    await actions.merge_contacts(db, actor, contact_id, body.source_id)
    await db.commit()
    return await contact_detail(db, actor, contact_id)
