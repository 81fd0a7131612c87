"""The routes behind the live inbox (both database backends): the list's rows again
(``/inbox/rows``), the notification bell's panel (``/ui/notifications``), what the pages give
the browser's scripts (the stream's cursor, the thread's newest message), and the composer's
answer to a reply sent meanwhile (what was sent, "Send anyway", "Discard my draft")."""

from __future__ import annotations

import re

from bandeja.core.channels.models import Platform
from tests.integration.ui_composer.support import workspace

ROW = re.compile(r'<li class="row[^"]*" id="row-(\d+)"')
TOTAL = re.compile(r'<template data-list-total="(\d+)">')


async def test_the_first_page_again_with_its_total(db, factory, client, queries):
    w = await workspace(db, factory, client)
    newer, _ = await factory.message(w.channel, person="c2", name="Newer Customer")
    hidden_channel = await factory.channel(w.ws, Platform.telegram)
    hidden, _ = await factory.message(hidden_channel, person="c3", name="Hidden Customer")
    await db.commit()
    with queries.count() as statements:
        r = await w.as_ana.get("/inbox/rows", params={"view": "open"})
    assert r.status_code == 200, r.text
    # Newest first, only what Ana may see, and the list's total for its title.
    assert [int(i) for i in ROW.findall(r.text)] == [newer.id, w.conv.id]
    assert TOTAL.findall(r.text) == ["2"]
    assert f'href="/inbox/c/{newer.id}?view=open"' in r.text
    # the session with its actor and language; rows; counts: no statement per row.
    assert len(statements) == 3, statements
    # The owner sees the other channel's conversation too; a filter narrows as in the list.
    r = await w.as_owner.get("/inbox/rows", params={"view": "open"})
    assert [int(i) for i in ROW.findall(r.text)] == [hidden.id, newer.id, w.conv.id]
    r = await w.as_owner.get("/inbox/rows", params={"view": "open", "platform": "telegram"})
    assert [int(i) for i in ROW.findall(r.text)] == [hidden.id]
    assert TOTAL.findall(r.text) == ["1"]


async def test_some_rows_by_id_only_those_i_may_see(db, factory, client, queries):
    w = await workspace(db, factory, client)
    hidden_channel = await factory.channel(w.ws, Platform.telegram)
    hidden, _ = await factory.message(hidden_channel, person="c3", name="Hidden Customer")
    await db.commit()
    ids = [("view", "mine"), ("id", str(w.conv.id)), ("id", str(hidden.id)), ("id", "999999")]
    with queries.count() as statements:
        r = await w.as_ana.get("/inbox/rows?" + "&".join(f"{k}={v}" for k, v in ids))
    assert r.status_code == 200, r.text
    assert [int(i) for i in ROW.findall(r.text)] == [w.conv.id]
    assert "Lucía Fernández" in r.text
    assert "data-list-total" not in r.text
    # The row's link keeps the list's parameters.
    assert f'href="/inbox/c/{w.conv.id}?view=mine"' in r.text
    assert len(statements) == 2, statements  # the session (actor, language); the rows
    # Another workspace's user: nothing of this one.
    r = await w.as_stranger.get(f"/inbox/rows?id={w.conv.id}")
    assert r.status_code == 200
    assert ROW.findall(r.text) == []


async def test_bad_rows_requests_are_refused(db, factory, client):
    w = await workspace(db, factory, client)
    for query in ("id=abc", "id=0", "view=nope", "&".join(["id=1"] * 51), "assignee=someone"):
        r = await w.as_ana.get(f"/inbox/rows?{query}")
        assert r.status_code == 422, (query, r.text)
        assert r.json()["error"]["code"] == "invalid_input", (query, r.text)
    r = await client.get("/inbox/rows", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"].startswith("/login?next=")


async def test_the_bell_lists_my_mentions_and_assignments(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_owner.post(f"/inbox/c/{w.conv.id}/assign", {"assignee": str(w.ana.id)})
    assert r.status_code == 200, r.text
    r = await w.as_owner.post(
        f"/inbox/c/{w.conv.id}/composer/note", {"text": "@[Ana Lima] can you call her?"}
    )
    assert r.status_code == 200, r.text
    r = await w.as_ana.get("/ui/notifications")
    assert r.status_code == 200, r.text
    html = r.text
    assert html.index("Olga Owner mentioned you in a note") < html.index(
        "Olga Owner assigned you a conversation"
    )
    assert html.count('class="notif unread"') == 2
    assert html.count(f'href="/inbox/c/{w.conv.id}"') == 2
    assert "Lucía Fernández · Messenger" in html
    assert 'data-action="notifications-read-all" >' in html  # enabled
    # Read state is Ana's own: Bruno has nothing, the owner nothing either.
    assert "No notifications yet." in (await w.as_bruno.get("/ui/notifications")).text
    assert "No notifications yet." in (await w.as_owner.get("/ui/notifications")).text
    # After "mark all read" nothing is unread and the button is off.
    r = await w.as_ana.client.post(
        "/api/v1/notifications/read",
        json={"all": True},
        headers={**w.as_ana._headers(), "X-CSRF-Token": w.as_ana.csrf},
    )
    assert r.json() == {"unread": 0}
    html = (await w.as_ana.get("/ui/notifications")).text
    assert 'class="notif unread"' not in html
    assert 'data-action="notifications-read-all" disabled' in html


async def test_the_bell_panel_in_spanish_and_without_a_session(db, factory, client):
    w = await workspace(db, factory, client)
    await w.as_owner.post(f"/inbox/c/{w.conv.id}/assign", {"assignee": str(w.ana.id)})
    r = await w.as_ana.post("/ui/locale", {"locale": "es", "back": "/inbox"}, htmx=False)
    assert r.status_code == 303, r.text
    html = (await w.as_ana.get("/ui/notifications")).text
    assert "Olga Owner te asignó una conversación" in html
    assert "Marcar todo como leído" in html
    r = await client.get("/ui/notifications", headers={"HX-Request": "true"})
    assert r.status_code == 204


async def test_pages_give_the_scripts_what_they_need(db, factory, client):
    w = await workspace(db, factory, client)
    page = (await w.as_ana.get("/inbox")).text
    cursor = re.search(r'data-events-cursor="([^"]+)"', page)
    assert cursor, "the inbox page carries the stream's cursor"
    assert re.search(r'id="rows"[^>]*data-query="view=open"[^>]*data-page-size="50"', page)
    for script in ("live.js", "presence.js", "notifications.js"):
        assert f"/static/{script}?v=" in page
    assert 'id="notifications"' in page
    assert 'data-msg-typing-reply="{name} is typing a reply…"' in page
    # The conversation's page: the cursor, the presence bar, the thread's newest message.
    page = (await w.as_ana.get(f"/inbox/c/{w.conv.id}")).text
    assert 'data-events-cursor="' in page
    assert f'id="presence-bar" data-conversation="{w.conv.id}"' in page
    assert f'data-newest-message="{w.message.id}"' in page
    same, later = await factory.message(w.channel, person="c1", name="Lucía Fernández", text="¿?")
    await db.commit()
    assert same.id == w.conv.id
    thread = (await w.as_ana.get(f"/inbox/c/{w.conv.id}/thread")).text
    assert f'data-newest-message="{later.id}"' in thread
    # The login page has no stream, no bell.
    r = await client.get("/login")
    assert "live.js" not in r.text
    assert 'id="notifications"' not in r.text


async def test_a_reply_sent_meanwhile_is_shown_with_its_author(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_owner.post(
        f"/inbox/c/{w.conv.id}/reply",
        {"text": "Olga answered\non two lines", "idempotency_key": "draft-key-0001"},
    )
    assert r.status_code == 200, r.text
    r = await w.as_ana.post(
        f"/inbox/c/{w.conv.id}/reply",
        {
            "text": "Ana's draft",
            "idempotency_key": "draft-key-0002",
            "seen_message_id": str(w.message.id),
        },
    )
    assert r.status_code == 409, r.text
    assert '<strong class="composer-sent-author">Olga Owner</strong>' in r.text
    assert '<p class="composer-sent-text">Olga answered\non two lines</p>' in r.text
    assert "Ana&#39;s draft</textarea>" in r.text  # the draft is kept
    assert "Send anyway" in r.text
    assert "Discard my draft" in r.text
    assert f'hx-get="/inbox/c/{w.conv.id}/composer?mode=reply"' in r.text


async def test_the_pane_head_alone(db, factory, client):
    w = await workspace(db, factory, client)
    await w.as_owner.post(f"/inbox/c/{w.conv.id}/assign", {"assignee": str(w.ana.id)})
    r = await w.as_ana.get(f"/inbox/c/{w.conv.id}/head")
    assert r.status_code == 200, r.text
    assert r.text.lstrip().startswith('<header class="pane-head" id="pane-head">')
    assert "<span data-assignee>Ana Lima</span>" in r.text
    assert 'id="thread"' not in r.text
    # Someone who may not see it, or another workspace: as if it did not exist.
    for who in (w.as_bruno, w.as_stranger):
        r = await who.get(f"/inbox/c/{w.conv.id}/head")
        assert r.status_code == 404, r.text
        assert r.json()["error"]["code"] == "not_found"
