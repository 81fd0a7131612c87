"""The contact panel over HTTP: identities (with consent) and conversations the actor may see,
searching for a duplicate and merging it."""

from __future__ import annotations

from sqlalchemy import select

from bandeja.core.channels.models import Platform
from bandeja.core.contacts.models import Contact, ContactIdentity
from tests.integration.ui_composer.support import workspace


async def _duplicate(db, factory, w):
    """The same person on Instagram (a channel Ana is not on), as a second contact."""
    ig = await factory.channel(w.ws, Platform.instagram, name="Aurora IG")
    other, _ = await factory.message(ig, person="ig-lucia", name="Lucía F.")
    identity = (
        await db.execute(
            select(ContactIdentity).where(ContactIdentity.contact_id == other.contact_id)
        )
    ).scalar_one()
    identity.handle, identity.language, identity.marketing_opt_in = "@lucia.f", "es", True
    await db.commit()
    return other


async def test_panel_shows_identities_and_history(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_ana.get(f"/inbox/c/{w.conv.id}/contact")
    assert r.status_code == 200, r.text
    assert "Lucía Fernández" in r.text
    assert 'data-platform="messenger"' in r.text
    assert "Marketing: not asked" in r.text
    assert f'href="/inbox/c/{w.conv.id}"' in r.text


async def test_merge_a_duplicate(db, factory, client):
    w = await workspace(db, factory, client)
    other = await _duplicate(db, factory, w)
    # The owner finds the duplicate by name (accents ignored), not the contact itself.
    r = await w.as_owner.get(
        "/ui/contacts",
        params={"q": "lucia", "exclude": w.conv.contact_id, "conversation": w.conv.id},
    )
    assert r.status_code == 200
    assert f'data-merge="{other.contact_id}"' in r.text
    assert f'data-merge="{w.conv.contact_id}"' not in r.text
    url = f"/contacts/{w.conv.contact_id}/merge"
    form = {"source_id": other.contact_id, "conversation_id": w.conv.id}
    assert (await w.as_owner.post(url, form, csrf=False)).status_code == 403
    r = await w.as_owner.post(url, form)
    assert r.status_code == 200, r.text
    assert "Lucía F. was merged into this contact." in r.text
    # Both identities and both conversations are now this contact's.
    assert 'data-platform="instagram"' in r.text
    assert "@lucia.f" in r.text
    assert "Marketing: opted in" in r.text
    assert f'href="/inbox/c/{other.id}"' in r.text
    assert await db.get(Contact, other.contact_id) is None
    await db.commit()
    # Ana is not on the Instagram channel: she sees neither that identity nor that conversation.
    r = await w.as_ana.get(f"/inbox/c/{w.conv.id}/contact")
    assert 'data-platform="instagram"' not in r.text
    assert f'href="/inbox/c/{other.id}"' not in r.text


async def test_merge_refusals(db, factory, client):
    w = await workspace(db, factory, client)
    other = await _duplicate(db, factory, w)
    url = f"/contacts/{w.conv.contact_id}/merge"
    # Into itself.
    r = await w.as_owner.post(url, {"source_id": w.conv.contact_id, "conversation_id": w.conv.id})
    assert r.status_code == 422
    assert "cannot merge a contact into itself" in r.text
    # A contact Ana cannot see (only on Instagram) looks missing; so does everything to a stranger.
    r = await w.as_ana.post(url, {"source_id": other.contact_id, "conversation_id": w.conv.id})
    assert r.status_code == 404
    r = await w.as_stranger.post(url, {"source_id": other.contact_id, "conversation_id": w.conv.id})
    assert r.status_code == 404
    for bad in ({"source_id": "x", "conversation_id": w.conv.id}, {"conversation_id": w.conv.id}):
        assert (await w.as_owner.post(url, bad)).status_code == 422
    assert await db.get(Contact, other.contact_id) is not None
    await db.commit()
    r = await w.as_ana.get("/ui/contacts", params={"q": "lucia", "exclude": 1})
    assert r.status_code == 422  # no conversation given


async def test_merge_candidates_say_where_each_person_writes_from(db, factory, client):
    w = await workspace(db, factory, client)
    other = await _duplicate(db, factory, w)
    r = await w.as_owner.get(
        "/ui/contacts",
        params={"q": "lucia", "exclude": w.conv.contact_id, "conversation": w.conv.id},
    )
    assert r.status_code == 200
    found = r.text.split(f'data-merge="{other.contact_id}"')[0].rsplit("<li>", 1)[1]
    # Two "Lucía"s are told apart by platform and handle.
    assert '<span class="muted small candidate-identity">Instagram · @lucia.f</span>' in found
