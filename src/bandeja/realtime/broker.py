"""The broker contract, and the in-process broker (one ``bandeja serve`` process, no Redis).

A broker orders the events of each workspace (increasing ids), keeps the last ones for clients
that reconnect, and hands every event to ``deliver`` (the hub of this process) in id order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bandeja.realtime.entries import Entry, format_id, parse_id

Deliver = Callable[[Entry], None]


class Broker(Protocol):
    async def start(self, deliver: Deliver | None) -> None:
        """Begin; ``deliver`` None: publish only (a worker process serves no clients)."""

    async def close(self) -> None: ...

    def publish(self, workspace_id: int, payloads: Sequence[dict[str, Any]]) -> None:
        """Queue events for ``workspace_id`` in this order; never blocks, never raises."""

    async def flush(self) -> None:
        """Wait until everything published so far is stored (tests, shutdown)."""

    async def watch(self, workspace_id: int) -> None:
        """Deliver this workspace's events from now on (its first client in this process)."""

    async def unwatch(self, workspace_id: int) -> None: ...

    async def replay(self, workspace_id: int, after: str) -> list[Entry] | None:
        """Events after ``after``, oldest first; None when some of them are no longer kept."""

    async def last_id(self, workspace_id: int) -> str:
        """The id of the newest event (a cursor a page can start its stream from)."""


class _Ring:
    def __init__(self, size: int) -> None:
        self.entries: deque[Entry] = deque(maxlen=size)
        self.seq = 0


class MemoryBroker:
    """Ids are ``<boot>-<seq>``: after a restart every old id is unknown and earns a reset."""

    def __init__(self, replay_size: int = 2000) -> None:
        self.replay_size = replay_size
        self.boot = time.time_ns() // 1_000_000
        self._rings: dict[int, _Ring] = {}
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver | None) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None

    def publish(self, workspace_id: int, payloads: Sequence[dict[str, Any]]) -> None:
        ring = self._rings.get(workspace_id)
        if ring is None:
            ring = self._rings[workspace_id] = _Ring(self.replay_size)
        for payload in payloads:
            ring.seq += 1
            entry = Entry.make(format_id((self.boot, ring.seq)), workspace_id, payload)
            ring.entries.append(entry)
            if self._deliver is not None:
                self._deliver(entry)

    async def flush(self) -> None:
        return None

    async def watch(self, workspace_id: int) -> None:
        return None

    async def unwatch(self, workspace_id: int) -> None:
        return None

    async def replay(self, workspace_id: int, after: str) -> list[Entry] | None:
        key = parse_id(after)
        ring = self._rings.get(workspace_id)
        seq = ring.seq if ring else 0
        if key is None or key[0] != self.boot or key[1] > seq:
            return None
        if ring is None or key[1] == seq:
            return []
        oldest = ring.entries[0].key[1]
        if key[1] < oldest - 1:
            return None  # what followed ``after`` has been dropped from the ring
        return [e for e in ring.entries if e.key[1] > key[1]]

    async def last_id(self, workspace_id: int) -> str:
        ring = self._rings.get(workspace_id)
        return format_id((self.boot, ring.seq if ring else 0))
