"""All background work of a process: in ``bandeja serve`` (default) or ``bandeja worker``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.core.conversations.actions import reopen_due_follow_ups
from bandeja.core.ingest.actions import stop_waiting
from bandeja.core.security import SecretBox
from bandeja.jobs.ingest import IngestWorker
from bandeja.jobs.sender import SendWorker

log = logging.getLogger(__name__)

FOLLOW_UP_EVERY_S = 30.0
# Platform APIs: fail fast on connect, allow slow answers.
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def settle_heap() -> None:
    """Exempt what start-up allocated (modules, mappers, compiled statements: most of the heap)
    from garbage collection. Otherwise every full collection walks all of it: about 200 ms with
    the event loop stopped, a latency spike for every webhook waiting on this process."""
    gc.collect()
    gc.freeze()


class Workers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        *,
        idle_s: float = 1.0,
        follow_up_every_s: float = FOLLOW_UP_EVERY_S,
        transport: httpx.AsyncBaseTransport | None = None,
        ingest_pace: float = 0.0,
        ingest_batch: int = 100,
    ) -> None:
        self.sessions = sessions
        # ``transport`` lets tests route platform API calls to an in-process sandbox.
        self.client = httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, headers={"User-Agent": "Bandeja"}, transport=transport
        )
        self.ingest = IngestWorker(
            sessions, box, self.client, idle_s=idle_s, pace=ingest_pace, batch=ingest_batch
        )
        self.sender = SendWorker(sessions, box, self.client, idle_s=idle_s)
        self.follow_up_every_s = follow_up_every_s
        self._tasks: list[asyncio.Task[None]] = []

    async def _periodic(self, every_s: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await job()
            except Exception:
                log.exception("periodic job failed")
            await asyncio.sleep(every_s)

    async def _follow_ups(self) -> None:
        async with self.sessions() as session:
            if await reopen_due_follow_ups(session):
                await session.commit()

    def start(self) -> None:
        settle_heap()
        self._tasks = [
            asyncio.create_task(self.ingest.run(), name="ingest"),
            asyncio.create_task(self.sender.run(), name="sender"),
            asyncio.create_task(
                self._periodic(self.follow_up_every_s, self._follow_ups), name="follow-ups"
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.client.aclose()

    async def drain(self, *, max_rounds: int = 50, settle: bool = False) -> None:
        """Process everything due now (tests, ``bandeja events replay``). With ``settle``,
        deliveries waiting for a message not stored yet stop waiting and are processed too."""
        for _ in range(max_rounds):
            if not (await self.ingest.run_once() + await self.sender.run_once()):
                if not settle:
                    return
                async with self.sessions() as session:
                    waiting = await stop_waiting(session)
                    await session.commit()
                if not waiting:
                    return
