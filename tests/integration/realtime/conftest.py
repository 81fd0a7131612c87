"""Realtime fixtures: an app whose hub runs (in-process or over a private Redis), API clients
per user, and a model of what a browser holds, kept current by the events it receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bandeja.config import Settings
from bandeja.core.access import Actor
from bandeja.realtime.audience import load_audience
from bandeja.realtime.entries import Entry
from bandeja.realtime.hub import Subscription
from bandeja.realtime.schemas import stream_event_adapter
from bandeja.realtime.service import Realtime
from bandeja.web.app import create_app
from tests.support.redis import RedisServer, redis_server


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def rt_settings(settings: Settings, broker_kind: str, request: pytest.FixtureRequest) -> Settings:
    if broker_kind == "memory":
        return settings
    server: RedisServer = request.getfixturevalue("redis_srv")
    # Ids restart with every emptied database: so must the streams and presence keys.
    Redis.from_url(server.url()).flushdb()
    return settings.model_copy(update={"redis_url": server.url(), "realtime_replay": 50})


@pytest.fixture
async def rt_app(
    engine: AsyncEngine, sessions: object, rt_settings: Settings
) -> AsyncIterator[FastAPI]:
    """A fresh app with its realtime service running (the shared ``app`` fixture has none)."""
    if not rt_settings.redis_url:
        rt_settings = rt_settings.model_copy(update={"realtime_replay": 50})
    app = create_app(rt_settings, engine=engine, background=False)
    await app.state.realtime.start()
    yield app
    await app.state.realtime.stop()


@pytest.fixture
def realtime(rt_app: FastAPI) -> Realtime:
    service: Realtime = rt_app.state.realtime
    return service


@pytest.fixture
async def rt_client(rt_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=rt_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def check_schema(payload: dict[str, Any]) -> None:
    """Every event on the stream validates against the typed schema, and nothing is lost in
    the round trip (no field the schema does not know)."""
    event = stream_event_adapter.validate_python(payload)
    assert event.model_dump(mode="json") == payload


@dataclass
class Listener:
    """One browser's subscription, read without HTTP (the SSE route is tested on its own)."""

    realtime: Realtime
    sub: Subscription

    async def events(self, settle_s: float = 0.15) -> list[Entry]:
        """What arrived until the stream was quiet for ``settle_s`` (after everything published
        reached the broker)."""
        await self.realtime.hub.broker.flush()
        got: list[Entry] = list(self.sub.initial)
        self.sub.initial = []
        while True:
            try:
                got.append(await asyncio.wait_for(self.sub.queue.get(), settle_s))
            except TimeoutError:
                break
        for entry in got:
            check_schema(entry.payload)
        return got

    async def close(self) -> None:
        await self.realtime.hub.close(self.sub)


@pytest.fixture
async def listen(realtime: Realtime, sessions: Any) -> AsyncIterator[Any]:
    opened: list[Listener] = []

    async def _listen(actor: Actor, last_event_id: str | None = None) -> Listener:
        async with sessions() as session:
            audience = await load_audience(session, actor)
        assert audience is not None
        listener = Listener(realtime, await realtime.hub.open(audience, last_event_id))
        opened.append(listener)
        return listener

    yield _listen
    for listener in opened:
        await listener.close()


@pytest.fixture
async def live_url(rt_app: FastAPI) -> AsyncIterator[str]:
    """The app served by a real uvicorn on a loopback port: streaming needs real sockets
    (httpx's ASGI transport hands over a response only when it is complete)."""
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            rt_app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
