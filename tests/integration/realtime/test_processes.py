"""The deployment topology: two ``bandeja serve`` processes and a ``bandeja worker`` over one
database and a real Redis. An action on one web process reaches a browser on the other, with the
same event ids; presence is shared; the worker's changes (an ingested webhook) reach browsers;
a browser resumes on another process than the one it lost."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bandeja.core.channels.models import Platform
from bandeja.core.users.models import Role
from tests.integration.realtime.conftest import check_schema
from tests.support.factory import SECRET_KEY, Factory
from tests.support.processes import bandeja_processes
from tests.support.redis import RedisServer
from tests.support.sse import SseReader
from tests.support.webhooks import fixture

STREAM = "/api/v1/events/stream"
TG_BOT_ID = "7012345678"  # the Telegram fixtures' bot
TG_SECRET = "bdj-tg-Wq81_zP0xVb3"


async def _world(sessions: Any) -> dict[str, Any]:
    async with sessions() as db:
        f = Factory(db)
        ws = await f.workspace()
        owner_user, _ = await f.user(ws, Role.owner)
        agent_user, _ = await f.user(ws, Role.agent, name="Ana")
        ig = await f.channel(ws, members=[agent_user])
        tg = await f.channel(
            ws, Platform.telegram, members=[agent_user], external_id=TG_BOT_ID,
            credentials={"signing_secret": TG_SECRET, "access_token": "7012345678:x"},
        )  # fmt: skip
        conversation, _ = await f.message(ig, person="p1", text="hola")
        owner = {"Authorization": f"Bearer {await f.token(ws, owner_user)}"}
        agent = {"Authorization": f"Bearer {await f.token(ws, agent_user)}"}
        await db.commit()
    return {"conversation": conversation.id, "tg": tg.id, "owner": owner, "agent": agent}


@pytest.fixture
def topology(engine: AsyncEngine, redis_srv: RedisServer, tmp_path: Path) -> Any:
    Redis.from_url(redis_srv.url()).flushdb()
    env = {
        "BANDEJA_ENV": "test",
        "BANDEJA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "BANDEJA_SECRET_KEY": SECRET_KEY,
        "BANDEJA_DATA_DIR": str(tmp_path),
        "BANDEJA_REDIS_URL": redis_srv.url(),
        "BANDEJA_WORKERS_IN_PROCESS": "false",
    }
    with bandeja_processes(env, tmp_path, web=2, workers=1) as processes:
        yield processes


async def test_two_web_processes_and_a_worker_share_events_and_presence(sessions, topology) -> None:
    w = await _world(sessions)
    a, b = topology[0].url, topology[1].url
    async with (
        httpx.AsyncClient(timeout=15) as http,
        http.stream("GET", f"{b}{STREAM}", headers=w["agent"]) as on_b,
        http.stream("GET", f"{a}{STREAM}", headers=w["agent"]) as on_a,
    ):
        reader_b, reader_a = SseReader(on_b), SseReader(on_a)
        await reader_b.frame()
        await reader_a.frame()

        # An action on A reaches the browser on B, and both carry the same id.
        r = await http.post(
            f"{a}/api/v1/conversations/{w['conversation']}/priority",
            json={"priority": "high"},
            headers=w["owner"],
        )
        assert r.status_code == 200, r.text
        seen_b, seen_a = await reader_b.event(), await reader_a.event()
        assert seen_b.payload["changes"] == {"priority": "high"}
        assert (seen_b.id, seen_b.data) == (seen_a.id, seen_a.data)

        # Presence reported to B is listed by A and announced on both.
        r = await http.post(
            f"{b}/api/v1/presence",
            json={"conversation_id": w["conversation"], "state": "typing_note"},
            headers=w["agent"],
        )
        assert r.status_code == 204, r.text
        listed = await http.get(
            f"{a}/api/v1/presence",
            params={"conversation": w["conversation"]},
            headers=w["owner"],
        )
        assert [(i["name"], i["state"]) for i in listed.json()["items"]] == [("Ana", "typing_note")]
        presence = await reader_a.event()
        assert (presence.payload["type"], presence.payload["state"]) == (
            "presence.changed",
            "typing_note",
        )

        # A webhook delivered to A is ingested by the worker process; its events reach B.
        r = await http.post(
            f"{a}/webhooks/telegram/{w['tg']}",
            content=fixture("telegram", "message__text_entities"),
            headers={
                "content-type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
            },
        )
        assert r.status_code == 200, r.text
        types = []
        while "message.created" not in types:
            event = await reader_b.event(within=15)
            check_schema(event.payload)
            types.append(event.payload["type"])
        assert "conversation.created" in types
        last_b = event.id
        # The worker yields the CPU to the web processes (BANDEJA_WORKER_NICE, 10 by default).
        web_a, worker = topology[0].popen.pid, topology[-1].popen.pid
        assert (
            os.getpriority(os.PRIO_PROCESS, worker) == os.getpriority(os.PRIO_PROCESS, web_a) + 10
        )

    # B's browser lost its connection; it comes back through A and misses nothing.
    async with httpx.AsyncClient(timeout=15) as http:
        r = await http.post(
            f"{b}/api/v1/conversations/{w['conversation']}/priority",
            json={"priority": "low"},
            headers=w["owner"],
        )
        assert r.status_code == 200
        headers = {**w["agent"], "Last-Event-ID": last_b}
        async with http.stream("GET", f"{a}{STREAM}", headers=headers) as again:
            reader = SseReader(again)
            missed = []
            for _ in range(20):
                missed.append((await reader.event()).payload)
                if missed[-1].get("changes") == {"priority": "low"}:
                    break
            # What the worker published after B's last event, then the priority, in order.
            assert missed[-1].get("changes") == {"priority": "low"}, missed
            assert all(m["type"] != "reset" for m in missed)
