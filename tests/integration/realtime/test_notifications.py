"""Notifications: a mention or an assignment by someone else notifies that user only, live and
in the list; read state is per user."""

from __future__ import annotations

from typing import Any

from bandeja.core.users.models import Role
from tests.support.factory import Factory


async def _world(sessions: Any) -> dict[str, Any]:
    async with sessions() as db:
        f = Factory(db)
        ws = await f.workspace()
        olga_user, olga = await f.user(ws, Role.owner, name="Olga")
        ana_user, ana = await f.user(ws, Role.agent, name="Ana")
        bo_user, bo = await f.user(ws, Role.agent, name="Bo")
        ig = await f.channel(ws, members=[ana_user, bo_user])
        conversation, _ = await f.message(ig, person="p1")
        headers = {
            name: {"Authorization": f"Bearer {await f.token(ws, user)}"}
            for name, user in (("olga", olga_user), ("ana", ana_user), ("bo", bo_user))
        }
        await db.commit()
    return {
        "conversation": conversation.id,
        "actors": {"olga": olga, "ana": ana, "bo": bo},
        "headers": headers,
    }


async def _post(client, w, who: str, path: str, body: Any = None, expect: int = 200):
    r = await client.post(f"/api/v1{path}", json=body, headers=w["headers"][who])
    assert r.status_code == expect, r.text
    return r.json()


async def _mine(client, w, who: str, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/v1/notifications", params=params, headers=w["headers"][who])
    assert r.status_code == 200, r.text
    return r.json()


async def test_assignment_and_mentions_notify_that_user_only(rt_client, listen, sessions):
    w = await _world(sessions)
    ana_live = await listen(w["actors"]["ana"])
    bo_live = await listen(w["actors"]["bo"])
    c = w["conversation"]
    await _post(rt_client, w, "olga", f"/conversations/{c}/assign",
                {"assignee_id": w["actors"]["ana"].user_id})  # fmt: skip
    note = await _post(rt_client, w, "olga", f"/conversations/{c}/notes",
                       {"text": "@ana can you call her? cc @olga"}, expect=201)  # fmt: skip
    # Doing it to oneself notifies nobody.
    await _post(rt_client, w, "bo", f"/conversations/{c}/assign",
                {"assignee_id": w["actors"]["bo"].user_id})  # fmt: skip

    ana_events = [e.payload for e in await ana_live.events()]
    created = [e for e in ana_events if e["type"] == "notification.created"]
    assert [(e["kind"], e["unread"], e["note_id"]) for e in created] == [
        ("assignment", 1, None),
        ("mention", 2, note["id"]),
    ]
    assert all(e["user_ids"] == [w["actors"]["ana"].user_id] for e in created)
    bo_events = [e.payload for e in await bo_live.events()]
    assert [e for e in bo_events if e["type"].startswith("notification")] == []

    page = await _mine(rt_client, w, "ana")
    assert page["unread"] == 2
    assert [(n["kind"], n["conversation_id"], n["actor_user_id"]) for n in page["items"]] == [
        ("mention", c, w["actors"]["olga"].user_id),
        ("assignment", c, w["actors"]["olga"].user_id),
    ]
    assert (await _mine(rt_client, w, "olga"))["items"] == []
    assert (await _mine(rt_client, w, "bo"))["items"] == []


async def test_read_state_is_per_user_and_reaches_the_users_other_tabs(rt_client, listen, sessions):
    w = await _world(sessions)
    c = w["conversation"]
    for who in ("ana", "bo"):
        await _post(rt_client, w, "olga", f"/conversations/{c}/notes",
                    {"text": f"@{who} look"}, expect=201)  # fmt: skip
        await _post(rt_client, w, "olga", f"/conversations/{c}/notes",
                    {"text": f"@{who} again"}, expect=201)  # fmt: skip
    ana_items = (await _mine(rt_client, w, "ana"))["items"]
    bo_items = (await _mine(rt_client, w, "bo"))["items"]
    other_tab = await listen(w["actors"]["ana"])
    # Bo's ids are ignored when Ana marks them.
    answer = await _post(rt_client, w, "ana", "/notifications/read",
                         {"ids": [ana_items[0]["id"], bo_items[0]["id"]]})  # fmt: skip
    assert answer == {"unread": 1}
    badge = await rt_client.get("/api/v1/notifications/unread", headers=w["headers"]["bo"])
    assert badge.json() == {"unread": 2}
    assert [n["id"] for n in (await _mine(rt_client, w, "ana", unread="true"))["items"]] == [
        ana_items[1]["id"]
    ]
    assert await _post(rt_client, w, "ana", "/notifications/read", {"all": True}) == {"unread": 0}
    read_events = [e.payload for e in await other_tab.events()]
    assert [(e["type"], e["unread"]) for e in read_events] == [
        ("notifications.read", 1),
        ("notifications.read", 0),
    ]


async def test_paging_and_bad_requests(rt_client, sessions):
    w = await _world(sessions)
    c = w["conversation"]
    for n in range(3):
        await _post(rt_client, w, "olga", f"/conversations/{c}/notes",
                    {"text": f"@ana {n}"}, expect=201)  # fmt: skip
    first = await _mine(rt_client, w, "ana", limit=2)
    assert len(first["items"]) == 2
    rest = await _mine(rt_client, w, "ana", before=first["next_before"])
    assert len(rest["items"]) == 1
    assert rest["next_before"] is None
    for body in ({}, {"ids": [1], "all": True}, {"ids": [0]}, {"all": "maybe"}):
        r = await rt_client.post(
            "/api/v1/notifications/read", json=body, headers=w["headers"]["ana"]
        )
        assert r.status_code == 422, body
        assert r.json()["error"]["code"] == "invalid_input"
    r = await rt_client.get("/api/v1/notifications", params={"limit": 0},
                            headers=w["headers"]["ana"])  # fmt: skip
    assert r.status_code == 422
