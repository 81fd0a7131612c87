"""The SSE route over a real connection: live events, resume with Last-Event-ID after a drop,
a reset when what was missed is gone, keep-alives, login, and clean disconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bandeja.core.events import WorkspaceChanged
from bandeja.core.users.models import Role
from bandeja.realtime.entries import parse_id
from tests.integration.realtime.conftest import check_schema
from tests.support.factory import PASSWORD, Factory
from tests.support.sse import SseReader

STREAM = "/api/v1/events/stream"


async def _world(sessions: Any) -> dict[str, Any]:
    async with sessions() as db:
        f = Factory(db)
        ws = await f.workspace()
        owner_user, _owner = await f.user(ws, Role.owner)
        agent_user, _agent = await f.user(ws, Role.agent)
        ig = await f.channel(ws, members=[agent_user])
        conversation, _ = await f.message(ig, person="p1", text="hola")
        owner_token = await f.token(ws, owner_user)
        agent_token = await f.token(ws, agent_user)
        await db.commit()
    return {
        "ws": ws.id,
        "conversation": conversation.id,
        "agent_email": agent_user.email,
        "owner": {"Authorization": f"Bearer {owner_token}"},
        "agent": {"Authorization": f"Bearer {agent_token}"},
    }


async def _priority(base: str, w: dict[str, Any], value: str) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(
            f"/api/v1/conversations/{w['conversation']}/priority",
            json={"priority": value},
            headers=w["owner"],
        )
        assert r.status_code == 200, r.text


async def test_live_events_then_resume_after_a_dropped_connection(live_url, sessions):
    w = await _world(sessions)
    async with (
        httpx.AsyncClient(base_url=live_url, timeout=10) as c,
        c.stream("GET", STREAM, headers=w["agent"]) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(response)
        assert (await reader.frame()).retry == 2000
        await _priority(live_url, w, "high")
        first = await reader.event()
        assert first.payload["type"] == "conversation.changed"
        assert first.payload["changes"] == {"priority": "high"}
        check_schema(first.payload)
    # Dropped. Meanwhile the conversation changes twice.
    await _priority(live_url, w, "low")
    await _priority(live_url, w, "urgent")
    headers = {**w["agent"], "Last-Event-ID": first.id}
    async with (
        httpx.AsyncClient(base_url=live_url, timeout=10) as c,
        c.stream("GET", STREAM, headers=headers) as response,
    ):
        reader = SseReader(response)
        missed = [await reader.event(), await reader.event()]
        assert [m.payload["changes"]["priority"] for m in missed] == ["low", "urgent"]
        keys = [parse_id(f.id or "") or (0, 0) for f in (first, *missed)]
        assert (0, 0) not in keys
        assert keys == sorted(keys)
        assert len(set(keys)) == 3
        await _priority(live_url, w, "none")
        live = await reader.event()
        assert live.payload["changes"] == {"priority": "none"}
        # Nothing was delivered twice.
        assert live.id not in {first.id, missed[0].id, missed[1].id}


async def test_a_cursor_taken_when_the_page_was_rendered_covers_the_gap(live_url, sessions):
    w = await _world(sessions)
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as c:
        cursor = (await c.get("/api/v1/events/cursor", headers=w["agent"])).json()
        await _priority(live_url, w, "high")  # between the page and the stream
        async with c.stream(
            "GET", STREAM, params={"last_event_id": cursor["last_event_id"]}, headers=w["agent"]
        ) as response:
            event = await SseReader(response).event()
            assert event.payload["changes"] == {"priority": "high"}


async def test_an_expired_or_foreign_id_gets_a_reset(live_url, sessions, realtime):
    w = await _world(sessions)
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as c:
        cursor = (await c.get("/api/v1/events/cursor", headers=w["agent"])).json()
        # Far more than the replay buffer keeps (50 here; Redis trims whole nodes of 100).
        filler = WorkspaceChanged(workspace_id=w["ws"], what="tags").model_dump(mode="json")
        realtime.hub.publish(w["ws"], [filler] * 400)
        await realtime.hub.broker.flush()
        for last in (cursor["last_event_id"], "not-an-id", "99999999999999-0"):
            headers = {**w["agent"], "Last-Event-ID": last}
            async with c.stream("GET", STREAM, headers=headers) as response:
                reader = SseReader(response)
                reset = await reader.event()
                assert reset.payload == {"type": "reset", "reason": "expired"}, last
                check_schema(reset.payload)
                # After a reset the stream goes on live.
                await _priority(live_url, w, "high" if last != "not-an-id" else "low")
                nxt = await reader.event()
                assert nxt.payload["type"] == "conversation.changed"


async def test_keep_alive_comments_on_an_idle_stream(live_url, sessions, realtime):
    realtime.hub.keepalive_s = 0.2  # read by the ticker on its next sleep
    await asyncio.sleep(0.05)
    realtime.hub._ticker.cancel()
    realtime.hub._ticker = asyncio.create_task(realtime.hub._keepalive_loop())
    w = await _world(sessions)
    async with (
        httpx.AsyncClient(base_url=live_url, timeout=10) as c,
        c.stream("GET", STREAM, headers=w["agent"]) as response,
    ):
        reader = SseReader(response)
        await reader.frame()  # retry
        frame = await reader.frame(within=2)
        assert frame.comments == ["keep-alive"]
        assert frame.data is None


async def test_login_is_required_and_a_browser_session_works(live_url, sessions, realtime):
    w = await _world(sessions)
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as c:
        response = await c.get(STREAM)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        response = await c.get(STREAM, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        login = await c.post(
            "/api/v1/auth/login", json={"email": w["agent_email"], "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        async with c.stream("GET", STREAM) as response:  # the session cookie
            assert response.status_code == 200
            reader = SseReader(response)
            await _priority(live_url, w, "high")
            assert (await reader.event()).payload["changes"] == {"priority": "high"}
            assert realtime.hub.clients(w["ws"]) == 1
    # The client went away: the hub forgets it.
    for _ in range(100):
        if realtime.hub.clients(w["ws"]) == 0:
            break
        await asyncio.sleep(0.02)
    assert realtime.hub.clients(w["ws"]) == 0
