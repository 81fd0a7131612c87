"""The clients of this process, per workspace, and the fan-out of each event to those allowed
to see it. Committed domain events come from ``core.events.bus``; the broker orders them, keeps
them for replay and brings back those of other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

from bandeja.core.events import BaseEvent, bus
from bandeja.realtime.audience import Audience
from bandeja.realtime.broker import Broker
from bandeja.realtime.entries import Entry, parse_id
from bandeja.realtime.schemas import Reset, payload_of

log = logging.getLogger(__name__)

QUEUE_SIZE = 1_000
RETRY_MS = 2_000
KEEPALIVE = b": keep-alive\n\n"
# Queued by the hub's ticker for idle clients: one timer for the process instead of one per
# client per event.
KEEPALIVE_ENTRY = Entry("0-0", (0, 0), 0, {"type": "keep-alive"}, KEEPALIVE)
# Audience-changing settings: a client reloads its channel accounts and role when they change.
_AUDIENCE_CHANGES = {"users", "channel_accounts", "teams"}

Refresh = Callable[[], Awaitable[Audience | None]]


def _reset(event_id: str, workspace_id: int, reason: str) -> Entry:
    return Entry.make(event_id, workspace_id, Reset.model_validate({"reason": reason}).model_dump())


class Subscription:
    """One connected client: a bounded queue of entries the hub has admitted for it."""

    def __init__(self, hub: Hub, audience: Audience) -> None:
        self.hub = hub
        self.audience = audience
        self.queue: asyncio.Queue[Entry] = asyncio.Queue(QUEUE_SIZE)
        self.initial: list[Entry] = []
        # Entries at or below this id were replayed already, or are covered by a full reload.
        self.floor: tuple[int, int] | None = None
        # Nothing was sent since the last keep-alive tick.
        self.idle = True

    def offer(self, entry: Entry) -> None:
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            # A client that does not read (a stalled network) must not hold the memory of a
            # thousand events: drop its backlog and tell it to reload when it wakes up.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_reset(entry.id, entry.workspace_id, "lagging"))

    async def frames(self, refresh: Refresh | None = None) -> AsyncGenerator[bytes, None]:
        """The SSE body: reconnect delay, replay (or reset), then live events and keep-alives."""
        yield f"retry: {RETRY_MS}\n\n".encode()
        for entry in self.initial:
            yield entry.frame
        self.initial = []
        while True:
            entry = await self.queue.get()
            if entry is KEEPALIVE_ENTRY:
                yield KEEPALIVE
                continue
            # Several events may be waiting: one write for all of them.
            batch = [entry]
            while not self.queue.empty() and len(batch) < 100:
                batch.append(self.queue.get_nowait())
            out: list[bytes] = []
            refresh_needed = False
            for item in batch:
                if item is KEEPALIVE_ENTRY:
                    continue
                if item.payload.get("type") == "reset":
                    self.floor = item.key
                elif self.floor is not None and item.key <= self.floor:
                    continue
                out.append(item.frame)
                if item.payload.get("what") in _AUDIENCE_CHANGES:
                    refresh_needed = True
            self.idle = False
            if out:
                yield b"".join(out)
            if refresh_needed and refresh is not None:
                audience = await refresh()
                if audience is None:
                    return  # no longer a member: end the stream
                self.audience = audience


class Hub:
    def __init__(self, broker: Broker, *, keepalive_s: float = 15.0) -> None:
        self.broker = broker
        self.keepalive_s = keepalive_s
        self._ticker: asyncio.Task[None] | None = None
        self._feeds: dict[int, set[Subscription]] = {}
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self, *, serve_clients: bool = True) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        await self.broker.start(self._deliver if serve_clients else None)
        self._unsubscribe = bus.subscribe(self._on_commit)
        if serve_clients:
            self._ticker = asyncio.create_task(self._keepalive_loop(), name="realtime-keepalive")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.broker.close()
        self._feeds.clear()

    def clients(self, workspace_id: int | None = None) -> int:
        if workspace_id is not None:
            return len(self._feeds.get(workspace_id, ()))
        return sum(len(f) for f in self._feeds.values())

    async def _keepalive_loop(self) -> None:
        """A comment on every stream that was quiet for a tick, so that proxies and browsers
        do not take it for dead (a client hears one within two ticks of silence)."""
        while True:
            await asyncio.sleep(self.keepalive_s)
            for feed in list(self._feeds.values()):
                for sub in list(feed):
                    if sub.idle and sub.queue.empty():
                        sub.queue.put_nowait(KEEPALIVE_ENTRY)
                    sub.idle = True

    # --- in: committed events --------------------------------------------------------------

    def _on_commit(self, events: Sequence[BaseEvent]) -> None:
        by_workspace: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for event in events:
            by_workspace[event.workspace_id].append(payload_of(event))
        for workspace_id, payloads in by_workspace.items():
            if self._loop is not None and threading.get_ident() != self._thread:
                # A commit on another thread (a synchronous tool): hand over to the loop.
                self._loop.call_soon_threadsafe(self.broker.publish, workspace_id, payloads)
            else:
                self.broker.publish(workspace_id, payloads)

    def publish(self, workspace_id: int, payloads: Sequence[dict[str, Any]]) -> None:
        """Events that are not database changes (presence)."""
        self.broker.publish(workspace_id, payloads)

    # --- out: connected clients ------------------------------------------------------------

    def _deliver(self, entry: Entry) -> None:
        for sub in self._feeds.get(entry.workspace_id, ()):
            if sub.audience.admits(entry.payload):
                sub.offer(entry)

    async def open(self, audience: Audience, last_event_id: str | None = None) -> Subscription:
        """Register a client, then compute what it missed: registering first means no event can
        fall between the replay and the live feed (an overlap is skipped by id)."""
        workspace_id = audience.workspace_id
        sub = Subscription(self, audience)
        async with self._lock:
            feed = self._feeds.get(workspace_id)
            if feed is None:
                await self.broker.watch(workspace_id)
                feed = self._feeds[workspace_id] = set()
            feed.add(sub)
        if last_event_id is None:
            return sub
        try:
            replay = await self.broker.replay(workspace_id, last_event_id)
            if replay is None:
                newest = await self.broker.last_id(workspace_id)
                sub.initial = [_reset(newest, workspace_id, "expired")]
                sub.floor = parse_id(newest)
            else:
                sub.initial = [e for e in replay if audience.admits(e.payload)]
                sub.floor = replay[-1].key if replay else parse_id(last_event_id)
        except BaseException:
            await self.close(sub)
            raise
        return sub

    async def close(self, sub: Subscription) -> None:
        workspace_id = sub.audience.workspace_id
        async with self._lock:
            feed = self._feeds.get(workspace_id)
            if feed is None:
                return
            feed.discard(sub)
            if not feed:
                del self._feeds[workspace_id]
                await self.broker.unwatch(workspace_id)
