"""The inbox UI over HTTP (both database backends): login, pages, triage actions, bulk, saved
views, language, and what must be refused (no session, no CSRF token, someone else's
conversation, bad input)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest

from bandeja.channels.config import channel_config
from bandeja.channels.sandbox.contract import SandboxChannel
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.users.models import Role
from tests.support.factory import BOX, PASSWORD

CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the inbox page)."""
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    r = await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token.group(1), "next": "/inbox"},
    )
    assert r.status_code == 303, r.text
    page = await client.get("/inbox")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def login_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def session_csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def hx(csrf: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf, "HX-Request": "true"}


def assert_refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


async def _world(db, factory) -> SimpleNamespace:
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner, name="Olga Owner")
    ana, _ = await factory.user(ws, Role.agent, name="Ana Lima")
    outsider, _ = await factory.user(ws, Role.agent, name="Otto Outsider")
    seen = await factory.channel(ws, Platform.instagram, members=[ana])
    hidden = await factory.channel(ws, Platform.messenger)
    conv, _ = await factory.message(seen, person="c1", name="Carla Gómez", text="hola, ¿abrís hoy?")
    other, _ = await factory.message(hidden, person="c2", name="Hugo Hidden", text="secret stuff")
    await db.commit()
    return SimpleNamespace(
        ws=ws,
        owner=owner,
        ana=ana,
        outsider=outsider,
        seen=seen,
        hidden=hidden,
        conv=conv,
        other=other,
    )


async def test_pages_need_a_session(client):
    r = await client.get("/inbox?view=mine")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/inbox%3Fview%3Dmine"
    r = await client.get("/inbox/c/1", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"].startswith("/login?next=")
    # Unsafe requests without a session are refused, not redirected.
    assert_refused(
        await client.post("/inbox/c/1/status", data={"action": "complete"}), 401, "unauthenticated"
    )
    assert (await client.get("/")).headers["location"] == "/inbox"


async def test_login_sets_a_safe_cookie_and_refuses_bad_logins(db, factory, client):
    w = await _world(db, factory)
    form = await client.get("/login")
    assert form.status_code == 200
    token = login_token(form.text)
    # Without the login form's token: refused (a page elsewhere cannot log this browser in).
    r = await client.post("/login", data={"email": w.ana.email, "password": PASSWORD})
    assert_refused(r, 403, "permission_denied")
    r = await client.post(
        "/login", data={"email": w.ana.email, "password": "wrong", "csrf_token": token}
    )
    assert r.status_code == 401
    assert "Wrong e-mail or password." in r.text
    token = login_token(r.text)
    r = await client.post(
        "/login",
        data={
            "email": w.ana.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/inbox"  # never an open redirect
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("bandeja_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = await client.get("/inbox")
    assert page.status_code == 200
    assert "Carla Gómez" in page.text
    csrf = session_csrf(page.text)
    # Logging out needs the token too, then ends the session.
    assert_refused(await client.post("/logout"), 403, "permission_denied")
    r = await client.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert (await client.get("/inbox")).status_code == 303


async def test_an_agent_sees_only_its_channels(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)
    page = await client.get("/inbox?view=open")
    assert "Carla Gómez" in page.text
    assert "Hugo Hidden" not in page.text
    assert (await client.get(f"/inbox/c/{w.conv.id}")).status_code == 200
    assert_refused(await client.get(f"/inbox/c/{w.other.id}"), 404, "not_found")
    assert_refused(await client.get(f"/inbox/c/{w.other.id}/thread"), 404, "not_found")
    r = await client.post(
        f"/inbox/c/{w.other.id}/status", data={"action": "complete"}, headers=hx(csrf)
    )
    assert_refused(r, 404, "not_found")
    # A bulk action touching one invisible conversation changes none of them.
    r = await client.post(
        "/inbox/bulk",
        data={"action": "complete", "ids": [str(w.conv.id), str(w.other.id)]},
        headers=hx(csrf),
    )
    assert_refused(r, 404, "not_found")
    opened = await client.get(f"/inbox/c/{w.conv.id}/thread")
    assert "marked this complete" not in opened.text


async def test_actions_refuse_a_missing_or_wrong_csrf_token(db, factory, client):
    w = await _world(db, factory)
    await log_in(client, w.ana.email)
    url = f"/inbox/c/{w.conv.id}/assign"
    assert_refused(await client.post(url, data={"assignee": "me"}), 403, "permission_denied")
    r = await client.post(url, data={"assignee": "me"}, headers={"X-CSRF-Token": "nope"})
    assert_refused(r, 403, "permission_denied")
    r = await client.post(url, data={"assignee": "me", "csrf_token": "nope"})
    assert_refused(r, 403, "permission_denied")
    assert_refused(
        await client.post("/inbox/bulk", data={"action": "complete", "ids": ["1"]}),
        403,
        "permission_denied",
    )
    assert_refused(await client.post("/ui/locale", data={"locale": "es"}), 403, "permission_denied")
    thread = await client.get(f"/inbox/c/{w.conv.id}/thread")
    assert "assigned this" not in thread.text


async def test_triage_from_the_pane(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)
    base = f"/inbox/c/{w.conv.id}"
    vip = (
        await client.post("/api/v1/tags", json={"name": "vip"}, headers={"X-CSRF-Token": csrf})
    ).json()

    r = await client.post(f"{base}/assign", data={"assignee": "me"}, headers=hx(csrf))
    assert r.status_code == 200, r.text
    assert 'id="pane-head"' in r.text
    assert 'hx-swap-oob="true"' in r.text  # the thread, out of band
    assert f'id="row-{w.conv.id}"' in r.text  # and the list's row
    assert "Ana Lima assigned this to Ana Lima" in r.text

    r = await client.post(f"{base}/tags", data={"add": str(vip["id"])}, headers=hx(csrf))
    assert r.status_code == 200, r.text
    assert ">vip</span>" in r.text
    r = await client.post(f"{base}/priority", data={"priority": "urgent"}, headers=hx(csrf))
    assert r.status_code == 200, r.text

    r = await client.post(
        f"{base}/status", data={"action": "follow_up", "preset": "tomorrow"}, headers=hx(csrf)
    )
    assert r.status_code == 200, r.text
    detail = (await client.get(f"/api/v1/conversations/{w.conv.id}")).json()["conversation"]
    assert detail["status"] == "follow_up"
    until = datetime.fromisoformat(detail["follow_up_until"]).astimezone(ZoneInfo("UTC"))
    # Tomorrow 9:00 in the workspace's zone (UTC here: the browser has not said otherwise).
    assert (until.hour, until.minute) == (9, 0)
    assert until.date() == (datetime.now(UTC) + timedelta(days=1)).date()
    assert detail["assignee"]["id"] == w.ana.id
    assert detail["priority"] == "urgent"
    assert [t["name"] for t in detail["tags"]] == ["vip"]

    r = await client.post(f"{base}/status", data={"action": "complete"}, headers=hx(csrf))
    assert r.status_code == 200, r.text
    assert 'data-status="complete"' in r.text
    r = await client.post(f"{base}/status", data={"action": "reopen"}, headers=hx(csrf))
    assert 'data-status="open"' in r.text
    r = await client.post(f"{base}/tags", data={"remove": str(vip["id"])}, headers=hx(csrf))
    assert ">vip</span>" not in r.text
    r = await client.post(f"{base}/assign", data={"assignee": "none"}, headers=hx(csrf))
    assert "Ana Lima unassigned this" in r.text


async def test_opening_marks_read_for_me_only(db, factory, client):
    w = await _world(db, factory)
    await log_in(client, w.ana.email)
    before = await client.get("/inbox?view=open")
    assert re.search(rf'class="row unread" id="row-{w.conv.id}"', before.text)
    opened = await client.get(f"/inbox/c/{w.conv.id}", headers={"HX-Request": "true"})
    assert opened.status_code == 200
    assert "hola, ¿abrís hoy?" in opened.text
    assert (
        f'id="composer" class="composer-slot" hx-get="/inbox/c/{w.conv.id}/composer"' in opened.text
    )
    assert f'hx-get="/inbox/c/{w.conv.id}/contact"' in opened.text
    after = await client.get("/inbox?view=open")
    assert re.search(rf'class="row" id="row-{w.conv.id}"', after.text)
    # The owner still has it unread.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as o:
        await log_in(o, w.owner.email)
        assert re.search(
            rf'class="row unread" id="row-{w.conv.id}"', (await o.get("/inbox?view=open")).text
        )


async def test_bad_input_is_a_clear_4xx(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)
    base = f"/inbox/c/{w.conv.id}"
    cases = [
        (f"{base}/status", {"action": "explode"}),
        (f"{base}/status", {"action": "follow_up"}),
        (f"{base}/status", {"action": "follow_up", "preset": "someday"}),
        (f"{base}/status", {"action": "follow_up", "until": "not a date"}),
        (f"{base}/status", {"action": "follow_up", "until": "2001-01-01T09:00"}),
        (f"{base}/assign", {"assignee": "abc"}),
        (f"{base}/assign", {}),
        (f"{base}/assign", {"assignee": "99999999"}),
        (f"{base}/tags", {"add": "x"}),
        (f"{base}/tags", {"add": "424242"}),
        (f"{base}/priority", {"priority": "whenever"}),
        ("/inbox/bulk", {"action": "complete"}),
        ("/inbox/bulk", {"action": "assign", "ids": [str(w.conv.id)], "value": "?"}),
        ("/inbox/views", {"name": "  "}),
        ("/ui/locale", {"locale": "fr"}),
        ("/ui/timezone", {"tz": "Mars/Olympus"}),
    ]
    for url, data in cases:
        r = await client.post(url, data=data, headers=hx(csrf))
        assert r.status_code == 422, (url, data, r.text)
        assert r.json()["error"]["message"], r.text
    for url in ("/inbox?view=nope", "/inbox?assignee=bob", "/inbox?status=maybe", "/inbox/c/0"):
        r = await client.get(url)
        assert r.status_code == 422, (url, r.text)
    assert (await client.get("/inbox/c/99999999")).status_code == 404


async def test_filters_paging_and_a_saved_view_with_its_count(db, factory, client):
    w = await _world(db, factory)
    at = datetime.now(UTC) - timedelta(hours=2)
    for n in range(55):
        await factory.message(
            w.seen,
            person=f"p{n}",
            name=f"Person {n:02d}",
            text=f"order {n}",
            at=at + timedelta(minutes=n),
        )
    await db.commit()
    csrf = await log_in(client, w.ana.email)
    page = await client.get("/inbox?view=open")
    assert page.text.count('class="row-link"') == 50
    more = re.search(r'hx-get="/inbox\?([^"]*cursor=[^"]+)"', page.text)
    assert more
    rest = await client.get(
        "/inbox?" + more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}
    )
    assert rest.status_code == 200
    assert rest.text.count('class="row-link"') == 6
    assert "Load more" not in rest.text
    # Text search, from the filter form (f=1): the list alone (the view list keeps its counts).
    found = await client.get("/inbox?view=open&f=1&q=Person+07", headers={"HX-Request": "true"})
    assert found.text.count('class="row-link"') == 1
    assert 'id="views"' not in found.text
    query = "view=open&f=1&platform=instagram&kind=dm"
    r = await client.post(
        "/inbox/views",
        data={"name": "IG DMs", "shared": "true", "query": query},
        headers=hx(csrf),
    )
    assert r.status_code == 204, r.text
    target = r.headers["HX-Redirect"]
    view_id = int(target.rsplit("=", 1)[1])
    page = await client.get(target)
    link = re.search(rf'data-view="{view_id}"[^>]*aria-current="page">(.*?)</a>', page.text, re.S)
    assert link, page.text[:3000]
    assert re.search(r'view-name">IG DMs<.*data-count>56<', link.group(1), re.S)
    # Shared: the owner sees it too, under the shared views.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as o:
        await log_in(o, w.owner.email)
        assert "IG DMs" in (await o.get("/inbox")).text


async def test_bulk_complete_assign_and_tag(db, factory, client):
    w = await _world(db, factory)
    second, _ = await factory.message(w.seen, person="c3", name="Dora", text="hi")
    await db.commit()
    csrf = await log_in(client, w.ana.email)
    tag = (
        await client.post("/api/v1/tags", json={"name": "bulk"}, headers={"X-CSRF-Token": csrf})
    ).json()
    ids = [str(w.conv.id), str(second.id)]
    for action, value in (("assign", "me"), ("tag", str(tag["id"]))):
        r = await client.post(
            "/inbox/bulk",
            data={"action": action, "ids": ids, "value": value, "back": "view=open"},
            headers=hx(csrf),
        )
        assert r.status_code == 200, r.text
        assert "2 conversations updated." in r.text
    r = await client.post(
        "/inbox/bulk",
        data={"action": "complete", "ids": ids, "back": "view=open"},
        headers=hx(csrf),
    )
    assert "Nothing here." in r.text
    listed = (await client.get("/api/v1/conversations", params={"view": "complete"})).json()
    assert sorted(c["id"] for c in listed["items"]) == sorted(int(i) for i in ids)
    assert all(c["assignee"]["id"] == w.ana.id for c in listed["items"])
    assert all([t["name"] for t in c["tags"]] == ["bulk"] for c in listed["items"])


async def test_language_choice_and_default(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)
    # No saved choice: the browser's language.
    page = await client.get("/inbox", headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
    assert '<html lang="it">' in page.text
    assert "Tutte le aperte" in page.text
    r = await client.post(
        "/ui/locale", data={"locale": "es", "back": "/inbox?view=mine", "csrf_token": csrf}
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/inbox?view=mine"
    # The saved choice wins over the browser's.
    page = await client.get("/inbox", headers={"Accept-Language": "it"})
    assert '<html lang="es">' in page.text
    assert "Todas las abiertas" in page.text
    assert "Bandeja de entrada" in page.text
    opened = await client.get(f"/inbox/c/{w.conv.id}")
    assert "Completar" in opened.text
    me = (await client.get("/api/v1/auth/me")).json()
    assert me["user_id"] == w.ana.id


@pytest.mark.parametrize("preset", ["1h", "tomorrow", "monday"])
async def test_follow_up_presets_use_the_browsers_time_zone(db, factory, client, preset):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)
    r = await client.post("/ui/timezone", data={"tz": "America/Mexico_City"}, headers=hx(csrf))
    assert r.status_code == 204
    r = await client.post(
        f"/inbox/c/{w.conv.id}/status",
        data={"action": "follow_up", "preset": preset},
        headers=hx(csrf),
    )
    assert r.status_code == 200, r.text
    detail = (await client.get(f"/api/v1/conversations/{w.conv.id}")).json()["conversation"]
    local = datetime.fromisoformat(detail["follow_up_until"]).astimezone(
        ZoneInfo("America/Mexico_City")
    )
    now = datetime.now(ZoneInfo("America/Mexico_City"))
    if preset == "1h":
        assert timedelta(minutes=59) < local - now <= timedelta(hours=1)
    else:
        assert (local.hour, local.minute) == (9, 0)
        assert local > now
        if preset == "monday":
            assert local.weekday() == 0
            assert local - now <= timedelta(days=7)


async def test_a_failed_send_shows_its_error_and_is_retried(db, factory, client, workers):
    w = await _world(db, factory)
    csrf = await log_in(client, w.ana.email)
    workers.sandbox.add_channel(
        SandboxChannel(
            bandeja_id=w.seen.id,
            platform=w.seen.platform,
            external_id=w.seen.external_id,
            name=w.seen.name,
            secrets=dict(channel_config(w.seen, BOX).secrets),
            webhook_url="http://testserver/unused",
        )
    )
    workers.sandbox.inject_failure(
        Platform.instagram,
        400,
        {"error": {"message": "The recipient cannot be reached", "code": 551}},
    )
    sent = await client.post(
        f"/api/v1/conversations/{w.conv.id}/messages",
        json={"text": "Sí, hasta las 20:00."},
        headers={"X-CSRF-Token": csrf},
    )
    assert sent.status_code == 202, sent.text
    await workers.drain()
    thread = await client.get(f"/inbox/c/{w.conv.id}/thread")
    assert "msg-failed" in thread.text
    assert "The recipient cannot be reached" in thread.text
    retry = re.search(r'hx-post="(/inbox/c/\d+/messages/\d+/retry)"', thread.text)
    assert retry
    # Someone else's conversation id in the URL: refused, nothing retried.
    wrong = retry.group(1).replace(f"/c/{w.conv.id}/", f"/c/{w.other.id}/")
    r = await client.post(wrong, headers=hx(csrf))
    assert r.status_code in (404, 422), r.text
    r = await client.post(retry.group(1), headers=hx(csrf))
    assert r.status_code == 200, r.text
    # Queued again (whether it then goes through is the send worker's business, tested there;
    # the browser tests see a retried send delivered).
    assert "msg-failed" not in r.text
    assert "delivery-queued" in r.text
    message = (await client.get(f"/api/v1/conversations/{w.conv.id}/messages")).json()["items"][0]
    assert message["status"] == "queued"


VIEW_COUNT = re.compile(
    r'data-view="([^"]+)"[^>]*>\s*<span class="view-name">[^<]*</span>\s*'
    r'<span class="count" data-count>([^<]*)<'
)


async def test_view_counts_match_the_api(db, factory, client):
    """The inbox counts the built-in views from one read of the counters: the same numbers as
    the API's per-view counts, for an owner and for an agent who sees one channel."""
    w = await _world(db, factory)
    at = datetime.now(UTC) - timedelta(hours=1)
    for n in range(6):
        await factory.message(w.seen, person=f"s{n}", name=f"S {n}", at=at)
    for n in range(4):
        await factory.message(w.hidden, person=f"h{n}", name=f"H {n}", at=at)
    mention, _ = await factory.message(w.seen, person="m1", kind=Kind.mention, thread="post-1")
    await db.commit()
    for user in (w.owner, w.ana):
        async with httpx.AsyncClient(
            transport=client._transport, base_url="http://testserver"
        ) as c:
            csrf = await log_in(c, user.email)
            ids = [w.conv.id, mention.id] if user is w.ana else [w.other.id]
            for conversation_id in ids:
                await c.post(
                    f"/inbox/c/{conversation_id}/assign", data={"assignee": "me"}, headers=hx(csrf)
                )
            await c.post(
                f"/inbox/c/{ids[-1]}/status", data={"action": "complete"}, headers=hx(csrf)
            )
            await c.post(
                "/inbox/views",
                data={"name": f"tagged {user.id}", "query": "view=open&f=1&priority=none"},
                headers=hx(csrf),
            )
            html = (await c.get("/inbox/views?view=open")).text
            shown = {view: int(n.replace(",", "")) for view, n in VIEW_COUNT.findall(html)}
            api = {str(v["id"]): v["count"] for v in (await c.get("/api/v1/views")).json()}
            assert shown == api
            assert len(shown) >= 7
            assert any(n > 0 for n in shown.values())
            # The page itself shows the counters' counts at once; a view whose count needs a
            # scan (priority) shows "…" and its list fetches the counts right after.
            page = (await c.get("/inbox")).text
            quick = dict(VIEW_COUNT.findall(page))
            assert quick == {k: "…" if k.isdigit() else str(v) for k, v in api.items()}
            assert 'hx-get="/inbox/views?view=open" hx-trigger="load"' in page


async def test_the_statements_of_the_hot_pages_are_pinned(db, factory, client, queries):
    """The inbox page, the list and the pane cost a fixed number of statements, however many
    conversations, tags and notes there are (no statement per row)."""
    w = await _world(db, factory)
    for n in range(12):
        await factory.message(w.seen, person=f"q{n}", name=f"Q {n}")
    await db.commit()
    csrf = await log_in(client, w.ana.email)
    tag = (
        await client.post("/api/v1/tags", json={"name": "t"}, headers={"X-CSRF-Token": csrf})
    ).json()
    await client.post(f"/inbox/c/{w.conv.id}/tags", data={"add": str(tag["id"])}, headers=hx(csrf))
    await client.get(f"/inbox/c/{w.conv.id}")  # read: opening it again writes nothing
    expected = {
        # the session with its actor and language; rows, counts; teammates, accounts, tags;
        # views, counters
        "/inbox": ({}, 8),
        # the same without the view list
        "/inbox?view=mine": ({"HX-Request": "true"}, 6),
        # the session; conversation; teammates with their channel accounts, teams, tags;
        # messages, notes, activity
        f"/inbox/c/{w.conv.id}": ({"HX-Request": "true"}, 8),
    }
    for url, (headers, count) in expected.items():
        with queries.count() as statements:
            r = await client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert len(statements) == count, (url, statements)


def _assign_menu(pane: str) -> list[str]:
    menu = pane.split('id="assign-user"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', menu)


async def test_the_assign_menu_lists_who_may_see_the_conversation(db, factory, client):
    w = await _world(db, factory)
    # Ana in two channel accounts: listed once. Otto in an account of another workspace only.
    await factory.channel(w.ws, Platform.whatsapp, members=[w.ana])
    elsewhere = await factory.workspace()
    await factory.user(elsewhere, Role.agent, email=w.outsider.email)
    await factory.channel(elsewhere, Platform.whatsapp, members=[w.outsider])
    await db.commit()
    await log_in(client, w.owner.email)
    seen = await client.get(f"/inbox/c/{w.conv.id}", headers={"HX-Request": "true"})
    hidden = await client.get(f"/inbox/c/{w.other.id}", headers={"HX-Request": "true"})
    # Admins see every account; an agent only the accounts they are a member of.
    assert _assign_menu(seen.text) == ["Ana Lima", "Olga Owner"]
    assert _assign_menu(hidden.text) == ["Olga Owner"]
