"""The webhook route itself, whatever the platform: answered before the rest of the app, errors in
the API's shape, one stored row per body, the worker woken, nothing acknowledged that was not
stored; and the channel cache in front of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from bandeja.channels.base import hmac_sha256_hex
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.ingest.models import RawEvent, RawEventStatus
from bandeja.core.ingest.recorder import Delivery, PostgresRecorder, SessionRecorder
from bandeja.web import hooks
from tests.support.factory import BOX

SECRET = "route-app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


@pytest.fixture
async def channel(db, factory) -> ChannelAccount:
    ws = await factory.workspace()
    channel = await factory.channel(
        ws, Platform.whatsapp, external_id="106540352242922", credentials={"signing_secret": SECRET}
    )
    await db.commit()
    return channel


def _signed(body: bytes, **extra: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-hub-signature-256": "sha256=" + hmac_sha256_hex(SECRET, body),
        **extra,
    }


@contextlib.contextmanager
def _state(app, name: str, value: object) -> Iterator[None]:
    """``app.state.<name>`` set for a block. (``monkeypatch.setattr`` would delete it on undo:
    Starlette's ``State`` keeps its attributes outside the instance ``__dict__``.)"""
    old = getattr(app.state, name)
    setattr(app.state, name, value)
    try:
        yield
    finally:
        setattr(app.state, name, old)


async def _stored(sessions) -> list[RawEvent]:
    async with sessions() as s:
        return list((await s.execute(select(RawEvent).order_by(RawEvent.id))).scalars())


def _error(response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"]


async def test_bad_paths_methods_and_sizes_get_json_errors(client, channel, sessions):
    url = f"/webhooks/whatsapp/{channel.id}"
    assert _error(await client.post("/webhooks/nowhere/1", content=BODY)) == (404, "not_found")
    assert _error(await client.post("/webhooks/whatsapp/abc", content=BODY)) == (404, "not_found")
    assert _error(await client.post(f"{url}/more", content=BODY)) == (404, "not_found")
    assert _error(await client.post("/webhooks/whatsapp/999999", content=BODY)) == (
        404,
        "not_found",
    )
    assert _error(await client.put(url, content=BODY, headers=_signed(BODY))) == (
        405,
        "method_not_allowed",
    )
    big = b"{" + b" " * hooks.MAX_BODY + b"}"
    assert _error(await client.post(url, content=big, headers=_signed(big))) == (413, "too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(3):
            yield b" " * (hooks.MAX_BODY // 2)

    response = await client.post(url, content=chunks(), headers=_signed(b""))
    assert _error(response) == (413, "too_large")
    assert _error(await client.post(url, content=BODY)) == (401, "unauthenticated")
    assert await _stored(sessions) == []
    # Everything else is still the application's.
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/api/v1/nothing-here")).status_code == 404


async def test_a_stored_delivery_wakes_the_worker_once(client, channel, sessions, app):
    woken = asyncio.Event()
    url = f"/webhooks/whatsapp/{channel.id}"
    with _state(app, "workers", SimpleNamespace(ingest=SimpleNamespace(wake=woken))):
        response = await client.post(url, content=BODY, headers=_signed(BODY))
        assert (response.status_code, response.text) == (200, "ok")
        assert woken.is_set()
        woken.clear()
        # The platform sends the same body again: acknowledged, stored once, nothing to do.
        assert (await client.post(url, content=BODY, headers=_signed(BODY))).status_code == 200
        assert not woken.is_set()
    [raw] = await _stored(sessions)
    assert (raw.channel_account_id, raw.workspace_id) == (channel.id, channel.workspace_id)
    assert (raw.body, raw.status, raw.attempts) == (BODY, RawEventStatus.pending, 0)


async def test_only_the_headers_worth_keeping_are_stored(client, channel, sessions, app, engine):
    recorder = app.state.recorder
    expected = PostgresRecorder if engine.dialect.name == "postgresql" else SessionRecorder
    assert isinstance(recorder, expected)
    headers = _signed(
        BODY,
        cookie="session=secret",
        authorization="Bearer secret",
        **{"x-request-id": "r-1", "user-agent": "facebookexternalua"},
    )
    response = await client.post(f"/webhooks/whatsapp/{channel.id}", content=BODY, headers=headers)
    assert response.status_code == 200
    [raw] = await _stored(sessions)
    assert raw.headers == {
        "content-type": "application/json",
        "x-hub-signature-256": headers["x-hub-signature-256"],
        "x-request-id": "r-1",
        "user-agent": "facebookexternalua",
    }


async def test_a_delivery_that_cannot_be_stored_is_not_acknowledged(client, channel, sessions, app):
    class Down:
        async def record(self, delivery: Delivery) -> int | None:
            raise ConnectionRefusedError("the database is restarting")

    with _state(app, "recorder", Down()):
        response = await client.post(
            f"/webhooks/whatsapp/{channel.id}", content=BODY, headers=_signed(BODY)
        )
    # A 5xx: the platform sends it again later.
    assert _error(response) == (503, "unavailable")
    assert await _stored(sessions) == []


async def test_an_account_that_cannot_be_read_is_not_acknowledged(client, channel, app):
    class Down:
        async def get(self, channel_id: int) -> None:
            raise ConnectionRefusedError("the database is restarting")

    with _state(app, "channel_cache", Down()):
        response = await client.post(
            f"/webhooks/whatsapp/{channel.id}", content=BODY, headers=_signed(BODY)
        )
    assert _error(response) == (503, "unavailable")


async def test_concurrent_misses_share_one_read(channel, sessions, queries):
    cache = hooks.ChannelCache(sessions, BOX)
    with queries.count() as statements:
        configs = await asyncio.gather(*(cache.get(channel.id) for _ in range(20)))
    assert {c.id for c in configs if c is not None} == {channel.id}
    assert len([s for s in statements if "channel_accounts" in s]) == 1


async def _name(cache: hooks.ChannelCache, channel_id: int) -> str:
    config = await cache.get(channel_id)
    assert config is not None
    return config.name


async def test_an_expired_account_answers_at_once_and_is_read_again_behind(
    channel, sessions, queries, monkeypatch
):
    cache = hooks.ChannelCache(sessions, BOX)
    assert await _name(cache, channel.id) == channel.name
    async with sessions() as s:
        await s.execute(
            update(ChannelAccount).where(ChannelAccount.id == channel.id).values(name="Renamed")
        )
        await s.commit()
    assert await _name(cache, channel.id) == channel.name  # still fresh: no read
    monkeypatch.setattr(hooks, "CACHE_TTL_S", 0.0)
    cache.forget(channel.id)
    assert await _name(cache, channel.id) == "Renamed"  # read, and already expired
    async with sessions() as s:
        await s.execute(
            update(ChannelAccount).where(ChannelAccount.id == channel.id).values(name="Again")
        )
        await s.commit()
    with queries.count() as statements:
        stale = await asyncio.gather(*(_name(cache, channel.id) for _ in range(5)))
        assert set(stale) == {"Renamed"}  # answered without waiting
        for _ in range(50):  # the one refresh in the background
            await asyncio.sleep(0.01)
            if cache._entries[channel.id].config.name == "Again":
                break
    assert len([s for s in statements if "channel_accounts" in s]) == 1
    assert await _name(cache, channel.id) == "Again"


async def test_a_rejected_delivery_is_counted_not_stored(client, channel, sessions):
    from bandeja.core.ingest.models import IgnoredCount

    bad = {"x-hub-signature-256": "sha256=" + "0" * 64, "content-type": "application/json"}
    for _ in range(2):
        response = await client.post(f"/webhooks/whatsapp/{channel.id}", content=BODY, headers=bad)
        assert _error(response)[0] == 401
        assert json.loads(response.text)["error"]["message"]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(RawEvent)) == 0
        counts = (await s.execute(select(IgnoredCount.reason, IgnoredCount.n))).all()
    assert [(reason.startswith("rejected:"), n) for reason, n in counts] == [(True, 2)]
