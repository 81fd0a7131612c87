"""The ingest worker: stored webhook deliveries → platform events → the core.

Deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` so that several workers (processes) share
the queue. Each delivery is applied inside its own SAVEPOINT: one that fails (a parser bug, a
surprise payload) is marked ``failed`` with its error and stays stored for ``bandeja events
replay``, while the rest of the batch goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.channels.config import channel_config
from bandeja.channels.registry import connector_for
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.events import discard_since, pending_mark
from bandeja.core.ingest.actions import (
    apply_event,
    claim_pending,
    mark_failed,
    mark_processed,
    touch_channel,
)
from bandeja.core.ingest.models import RawEvent
from bandeja.core.security import SecretBox

log = logging.getLogger(__name__)


class IngestWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        client: httpx.AsyncClient,
        *,
        batch: int = 100,
        idle_s: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.client = client
        self.batch = batch
        self.idle_s = idle_s
        self.wake = asyncio.Event()

    async def _process(
        self, session: AsyncSession, raw: RawEvent, channel: ChannelAccount
    ) -> str | None:
        mark = pending_mark(session)
        try:
            async with session.begin_nested():
                config = channel_config(channel, self.box)
                connector = connector_for(channel.platform)
                events = connector.parse(config, raw.body)
                events = await connector.expand(self.client, config, events)
                for event in events:
                    await apply_event(session, channel, event)
        except Exception as exc:
            discard_since(session, mark)
            log.exception("raw event %s (%s) failed", raw.id, raw.platform)
            return f"{type(exc).__name__}: {exc}"
        return None

    async def run_once(self) -> int:
        """Process one batch; returns how many deliveries it handled."""
        async with self.sessions() as session:
            raws = await claim_pending(session, limit=self.batch)
            if not raws:
                return 0
            channels: dict[int, ChannelAccount] = {}
            for raw in raws:
                channel = channels.get(raw.channel_account_id)
                if channel is None:
                    channel = await session.get(ChannelAccount, raw.channel_account_id)
                    assert channel is not None  # the foreign key cascades deletes
                    channels[channel.id] = channel
                error = await self._process(session, raw, channel)
                if error is None:
                    mark_processed(raw)
                else:
                    mark_failed(raw, error)
                await touch_channel(session, channel, error=error)
            await session.commit()
            return len(raws)

    async def run(self) -> None:
        """Process until cancelled; sleeps when idle, wakes early when a delivery arrives."""
        while True:
            try:
                handled = await self.run_once()
            except Exception:  # keep the worker alive across a passing database error
                log.exception("ingest batch failed")
                handled = 0
            if handled < self.batch:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_s)
