"""The Redis broker: one stream per workspace, shared by every web and worker process.

A stream gives what several processes need and nothing home-made: one id sequence per workspace
(Redis assigns it on ``XADD``), a bounded replay buffer (``MAXLEN ~``), and readers that resume
from an id after a network blip without losing an event. Each web process reads the streams of
the workspaces that have clients connected to it (one blocking ``XREAD`` per workspace).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bandeja.realtime.broker import Deliver
from bandeja.realtime.entries import Entry, parse_id

log = logging.getLogger(__name__)

BLOCK_MS = 5_000
READ_COUNT = 1_000
RETRY_S = 0.5


class RedisBroker:
    def __init__(self, url: str, replay_size: int = 2000, *, prefix: str = "bandeja") -> None:
        self.url = url
        self.replay_size = replay_size
        self.prefix = prefix
        self.redis: Redis = Redis.from_url(url, decode_responses=True)
        self._deliver: Deliver | None = None
        self._outbox: asyncio.Queue[tuple[int, list[str]]] = asyncio.Queue()
        self._publisher: asyncio.Task[None] | None = None
        self._readers: dict[int, asyncio.Task[None]] = {}

    def stream(self, workspace_id: int) -> str:
        return f"{self.prefix}:events:{workspace_id}"

    async def start(self, deliver: Deliver | None) -> None:
        self._deliver = deliver
        await self.redis.ping()  # fail at start-up, not at the first event, when Redis is away
        self._publisher = asyncio.create_task(self._publish_loop(), name="realtime-publisher")

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 5.0)
        tasks = [*self._readers.values(), *([self._publisher] if self._publisher else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._readers.clear()
        self._publisher = None
        await self.redis.aclose()

    # --- publishing ------------------------------------------------------------------------

    def publish(self, workspace_id: int, payloads: Sequence[dict[str, Any]]) -> None:
        # One writer task keeps the events of this process in commit order (concurrent XADDs on
        # several pooled connections could reach Redis in any order) and pipelines them.
        encoded = [json.dumps(p, separators=(",", ":"), ensure_ascii=False) for p in payloads]
        self._outbox.put_nowait((workspace_id, encoded))

    async def flush(self) -> None:
        await self._outbox.join()

    async def _publish_loop(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 500:
                batch.append(self._outbox.get_nowait())
            while True:
                try:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for workspace_id, encoded in batch:
                            for data in encoded:
                                pipe.xadd(
                                    self.stream(workspace_id),
                                    {"e": data},
                                    maxlen=self.replay_size,
                                    approximate=True,
                                )
                        await pipe.execute()
                    break
                except RedisError:
                    # Redis is briefly away: keep the events in order and try again.
                    log.exception("publishing events to Redis failed; retrying")
                    await asyncio.sleep(RETRY_S)
            for _ in batch:
                self._outbox.task_done()

    # --- reading ---------------------------------------------------------------------------

    async def watch(self, workspace_id: int) -> None:
        if workspace_id in self._readers:
            return
        # Start from the newest id now: whatever a new client missed before it registered is
        # in its replay; everything after comes through this reader.
        start = await self.last_id(workspace_id)
        self._readers[workspace_id] = asyncio.create_task(
            self._read_loop(workspace_id, start), name=f"realtime-reader-{workspace_id}"
        )

    async def unwatch(self, workspace_id: int) -> None:
        task = self._readers.pop(workspace_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read_loop(self, workspace_id: int, last: str) -> None:
        key = self.stream(workspace_id)
        while True:
            try:
                answer: Any = await self.redis.xread({key: last}, count=READ_COUNT, block=BLOCK_MS)
            except RedisError:
                log.exception("reading events from Redis failed; retrying")
                await asyncio.sleep(RETRY_S)
                continue
            for _stream, items in answer or ():
                for event_id, fields in items:
                    last = event_id
                    entry = self._entry(workspace_id, event_id, fields)
                    if entry is not None and self._deliver is not None:
                        self._deliver(entry)

    @staticmethod
    def _entry(workspace_id: int, event_id: str, fields: dict[str, str]) -> Entry | None:
        try:
            payload = json.loads(fields["e"])
        except (KeyError, ValueError):
            log.warning("skipping malformed stream entry %s", event_id)
            return None
        return Entry.make(event_id, workspace_id, payload)

    # --- replay ----------------------------------------------------------------------------

    async def _info(self, workspace_id: int) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self.redis.xinfo_stream(self.stream(workspace_id))
        except ResponseError:  # no such key: no event was ever published (or Redis lost them)
            return None
        return info

    async def last_id(self, workspace_id: int) -> str:
        info = await self._info(workspace_id)
        return str(info["last-generated-id"]) if info else "0-0"

    async def replay(self, workspace_id: int, after: str) -> list[Entry] | None:
        key = parse_id(after)
        if key is None:
            return None
        info = await self._info(workspace_id)
        if info is None:
            return [] if key == (0, 0) else None
        newest = parse_id(str(info["last-generated-id"])) or (0, 0)
        if key > newest:
            return None  # an id from another stream: Redis was emptied since
        # The stream is bounded (MAXLEN ~ keeps at least ``replay_size``): read it all from
        # ``after`` on. If ``after`` itself is still there, nothing after it was trimmed.
        items: Any = await self.redis.xrange(self.stream(workspace_id), min=after, max="+")
        if items and items[0][0] == after:
            items = items[1:]
        elif info.get("entries-added") != info.get("length"):
            # ``after`` is gone: trimmed with what followed it, and that cannot be replayed.
            # (Redis does not record trimmed ids; a stream never trimmed has lost nothing.)
            return None
        entries = [self._entry(workspace_id, i, f) for i, f in items]
        return [e for e in entries if e is not None]
