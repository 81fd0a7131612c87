"""Presence: heartbeats become events only when the state changes, entries expire about
``ttl`` seconds after the last heartbeat, and only those who may see a conversation see who is in
it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bandeja.core.channels.models import Platform
from bandeja.core.users.models import Role
from tests.support.factory import Factory


async def _world(sessions: Any) -> dict[str, Any]:
    async with sessions() as db:
        f = Factory(db)
        ws = await f.workspace()
        ana_user, ana = await f.user(ws, Role.agent, name="Ana")
        bo_user, bo = await f.user(ws, Role.agent, name="Bo")
        cy_user, cy = await f.user(ws, Role.agent, name="Cy")
        ig = await f.channel(ws, members=[ana_user, bo_user])
        x = await f.channel(ws, Platform.x, members=[cy_user])
        conversation, _ = await f.message(ig, person="p1")
        hidden, _ = await f.message(x, person="p2")
        headers = {
            name: {"Authorization": f"Bearer {await f.token(ws, user)}"}
            for name, user in (("ana", ana_user), ("bo", bo_user), ("cy", cy_user))
        }
        await db.commit()
    return {
        "conversation": conversation.id,
        "hidden": hidden.id,
        "actors": {"ana": ana, "bo": bo, "cy": cy},
        "headers": headers,
    }


async def _report(client, w, who: str, state: str | None, conversation: str = "conversation"):
    return await client.post(
        "/api/v1/presence",
        json={"conversation_id": w[conversation], "state": state},
        headers=w["headers"][who],
    )


async def _who(client, w, who: str) -> list[tuple[str, str]]:
    r = await client.get(
        "/api/v1/presence", params={"conversation": w["conversation"]}, headers=w["headers"][who]
    )
    assert r.status_code == 200, r.text
    return [(i["name"], i["state"]) for i in r.json()["items"]]


async def test_heartbeats_changes_and_expiry(rt_client, listen, sessions, realtime):
    w = await _world(sessions)
    bo = await listen(w["actors"]["bo"])
    cy = await listen(w["actors"]["cy"])
    for _ in range(3):  # heartbeats repeat; only the first is news
        assert (await _report(rt_client, w, "ana", "viewing")).status_code == 204
    assert (await _report(rt_client, w, "ana", "typing_reply")).status_code == 204
    events = [e.payload for e in await bo.events()]
    assert [(e["type"], e["name"], e["state"]) for e in events] == [
        ("presence.changed", "Ana", "viewing"),
        ("presence.changed", "Ana", "typing_reply"),
    ]
    assert await _who(rt_client, w, "bo") == [("Ana", "typing_reply")]
    # Cy cannot see the conversation: neither the events nor the list.
    assert await cy.events() == []
    r = await rt_client.get("/api/v1/presence", headers=w["headers"]["cy"])
    assert r.json()["items"] == []
    # Ana's browser goes away: no heartbeat for longer than the ttl.
    assert await realtime.presence.sweep(now=time.time() + realtime.presence.ttl - 5) == 0
    assert await realtime.presence.sweep(now=time.time() + realtime.presence.ttl + 1) == 1
    gone = [e.payload for e in await bo.events()]
    assert [(e["user_id"], e["state"]) for e in gone] == [(w["actors"]["ana"].user_id, None)]
    assert await _who(rt_client, w, "bo") == []


async def test_leaving_is_announced_at_once(rt_client, listen, sessions):
    w = await _world(sessions)
    bo = await listen(w["actors"]["bo"])
    await _report(rt_client, w, "ana", "viewing")
    await _report(rt_client, w, "ana", None)
    await _report(rt_client, w, "ana", None)  # twice: announced once
    states = [e.payload["state"] for e in await bo.events()]
    assert states == ["viewing", None]


async def test_an_entry_disappears_on_its_own_after_the_ttl(rt_client, listen, sessions, rt_app):
    rt_app.state.realtime.presence.store.ttl = 2.0
    w = await _world(sessions)
    bo = await listen(w["actors"]["bo"])
    await _report(rt_client, w, "ana", "viewing")
    started = time.monotonic()
    await bo.events()
    while await _who(rt_client, w, "bo"):
        assert time.monotonic() - started < 6, "the entry did not expire"
        await asyncio.sleep(0.2)
    assert time.monotonic() - started >= 1.5
    for _ in range(30):  # the sweeper's announcement follows within a second or so
        states = [e.payload["state"] for e in await bo.events(settle_s=0.1)]
        if states:
            assert states == [None]
            break
    else:
        raise AssertionError("no presence.changed event for the expiry")


async def test_bad_presence_reports_are_clear_4xx(rt_client, sessions):
    w = await _world(sessions)
    r = await _report(rt_client, w, "ana", "dancing")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_input"
    r = await _report(rt_client, w, "ana", "viewing", conversation="hidden")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await rt_client.post(
        "/api/v1/presence", json={"conversation_id": 0, "state": "viewing"},
        headers=w["headers"]["ana"],
    )  # fmt: skip
    assert r.status_code == 422
    r = await rt_client.post("/api/v1/presence", json={"conversation_id": w["conversation"]})
    assert r.status_code == 401
