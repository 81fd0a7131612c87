"""Details a browser relies on beyond the happy path: a refused page navigation shows a page
(not a JSON body), the pages' icon exists, the composer's pickers do not trip htmx, and text in
right-to-left scripts takes its own direction."""

from __future__ import annotations

import re

from tests.integration.ui.test_inbox_pages import _world, log_in

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def test_a_refused_page_navigation_shows_a_page_with_the_reason(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)

    # A stale link: the conversation is on a channel account Ana does not see.
    r = await client.get(f"/inbox/c/{w.other.id}", headers=PAGE)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Not found, or not yours to see" in r.text
    assert 'href="/inbox"' in r.text
    assert "secret stuff" not in r.text
    assert "Hugo Hidden" not in r.text

    # A bookmark of a view that is gone; the reason is escaped, in Ana's language.
    r = await client.post("/ui/locale", data={"locale": "es", "back": "/inbox", "csrf_token": csrf})
    assert r.status_code == 303, r.text
    r = await client.get("/inbox", params={"view": "<b>gone</b>"}, headers=PAGE)
    assert r.status_code == 422
    assert "Esta dirección no es válida" in r.text
    assert "&lt;b&gt;gone&lt;/b&gt;" in r.text
    assert "<b>gone</b>" not in r.text
    r = await client.get("/inbox/c/not-a-number", headers=PAGE)
    assert r.status_code == 422
    assert "Esta dirección no es válida" in r.text

    # htmx, scripts and the API keep the JSON error.
    r = await client.get(f"/inbox/c/{w.other.id}", headers={**PAGE, "HX-Request": "true"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.get(f"/inbox/c/{w.other.id}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.get(f"/api/v1/conversations/{w.other.id}", headers=PAGE)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_pages_link_an_icon_that_is_served(db, factory, client):
    w = await _world(db, factory)
    login_page = (await client.get("/login")).text
    await log_in(client, w.ana.email)
    for html in (login_page, (await client.get("/inbox")).text):
        icon = re.search(r'<link rel="icon" href="([^"]+)"', html)
        assert icon, html[:500]
        r = await client.get(icon.group(1))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("image/svg+xml")


async def test_composer_pickers_do_not_inherit_the_send_buttons_lock(db, factory, client):
    w = await _world(db, factory)
    await log_in(client, w.ana.email)
    r = await client.get(f"/inbox/c/{w.conv.id}/composer", headers={"HX-Request": "true"})
    assert r.status_code == 200
    forms = re.findall(r"<form id=\"composer-[a-z]+\"[^>]*>", r.text)
    assert forms
    for form in forms:
        # Without hx-disinherit the saved-reply picker's own requests look for a submit button
        # inside the picker, and htmx logs an error in the console on each of them.
        assert 'hx-disabled-elt="find button[type=submit]"' in form
        assert 'hx-disinherit="hx-disabled-elt"' in form


async def test_thread_text_takes_its_own_direction(db, factory, client):
    w = await _world(db, factory)
    arabic = "مرحبا، هل أنتم مفتوحون؟"
    conv, _ = await factory.message(w.seen, person="c9", name="Maryam", text=arabic)
    await db.commit()
    await log_in(client, w.ana.email)
    r = await client.get(f"/inbox/c/{conv.id}/thread", headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text
    assert f'<p class="msg-text" dir="auto">{arabic}</p>' in r.text


async def test_a_note_shows_its_mentions_as_names(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.owner.email)
    text = "@[Ana Lima] can you call? @[Nobody Here] <b>not bold</b>"
    r = await client.post(
        f"/inbox/c/{w.conv.id}/composer/note",
        data={"text": text},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/inbox/c/{w.conv.id}/thread", headers={"HX-Request": "true"})
    note = re.search(r'<li class="note".*?</li>', r.text, re.S)
    assert note, r.text
    assert '<span class="mention">@Ana Lima</span> can you call?' in note.group(0)
    # Not a teammate: it notified nobody, so it stays as typed; the rest is escaped as ever.
    assert "@[Nobody Here] &lt;b&gt;not bold&lt;/b&gt;" in note.group(0)
