"""The hub and the in-process broker without a database: ids, replay limits, audiences, and a
client that stops reading."""

from __future__ import annotations

import asyncio
from typing import Any

from bandeja.realtime.audience import Audience
from bandeja.realtime.broker import MemoryBroker
from bandeja.realtime.entries import parse_id
from bandeja.realtime.hub import QUEUE_SIZE, Hub


def _payload(n: int, **audience: object) -> dict[str, object]:
    return {"type": "workspace.changed", "workspace_id": 1, "what": "tags", "n": n, **audience}


async def test_ids_increase_and_replay_stops_where_the_ring_ends() -> None:
    broker = MemoryBroker(replay_size=5)
    await broker.start(None)
    broker.publish(1, [_payload(n) for n in range(3)])
    first, second, third = await broker.replay(1, f"{broker.boot}-0") or []
    assert first.key < second.key < third.key
    assert parse_id(first.id) == first.key
    assert [e.payload["n"] for e in await broker.replay(1, first.id) or []] == [1, 2]
    assert await broker.replay(1, third.id) == []
    assert await broker.last_id(1) == third.id
    broker.publish(1, [_payload(n) for n in range(3, 10)])  # the ring keeps 5..9
    assert await broker.replay(1, first.id) is None
    kept = await broker.replay(1, f"{broker.boot}-5")
    assert [e.payload["n"] for e in kept or []] == [5, 6, 7, 8, 9]
    # Another boot's ids, ids from the future and garbage all mean "reload".
    for foreign in ("1-3", f"{broker.boot}-99", "x", f"{broker.boot}-1-2"):
        assert await broker.replay(1, foreign) is None, foreign
    # Workspaces have their own sequences.
    assert await broker.replay(2, f"{broker.boot}-0") == []


def test_audiences() -> None:
    agent = Audience(user_id=7, workspace_id=1, is_admin=False, channel_account_ids=frozenset({3}))
    admin = Audience(user_id=8, workspace_id=1, is_admin=True, channel_account_ids=frozenset())
    cases: list[tuple[dict[str, Any], bool, bool]] = [
        ({"channel_account_id": 3}, True, True),
        ({"channel_account_id": 4}, False, True),
        ({"user_ids": [7]}, True, False),
        ({"user_ids": [8], "channel_account_id": 3}, False, True),
        ({}, True, True),
    ]
    for payload, for_agent, for_admin in cases:
        assert agent.admits(payload) is for_agent, payload
        assert admin.admits(payload) is for_admin, payload


async def test_a_client_that_stops_reading_gets_a_reset_instead_of_a_backlog() -> None:
    hub = Hub(MemoryBroker())
    await hub.start()
    try:
        everyone = Audience(1, 1, True, frozenset())
        slow = await hub.open(everyone)
        hub.publish(1, [_payload(n) for n in range(QUEUE_SIZE + 10)])
        assert slow.queue.qsize() <= 10
        frames = slow.frames()
        assert (await anext(frames)).startswith(b"retry:")
        body = await anext(frames)
        assert body.count(b'"type":"reset"') == 1
        assert b'"reason":"lagging"' in body
        # After the reset, only what came after the dropped backlog.
        assert body.count(b"workspace.changed") <= 10
        await frames.aclose()
        await hub.close(slow)
        assert hub.clients() == 0
    finally:
        await hub.stop()


async def test_an_idle_stream_gets_keep_alives_and_a_busy_one_does_not() -> None:
    hub = Hub(MemoryBroker(), keepalive_s=0.05)
    await hub.start()
    try:
        everyone = Audience(1, 1, True, frozenset())
        sub = await hub.open(everyone)
        frames = sub.frames()
        await anext(frames)  # retry
        assert await asyncio.wait_for(anext(frames), 1) == b": keep-alive\n\n"
        hub.publish(1, [_payload(1)])
        assert b"workspace.changed" in await asyncio.wait_for(anext(frames), 1)
        await frames.aclose()
        await hub.close(sub)
    finally:
        await hub.stop()
