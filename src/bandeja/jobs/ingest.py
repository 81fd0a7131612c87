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
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.channels.config import channel_config
from bandeja.channels.registry import connector_for
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.events import discard_since, pending_mark
from bandeja.core.ingest.actions import (
    NotYetKnown,
    apply_event,
    claim_pending,
    mark_deferred,
    mark_failed,
    mark_processed,
    may_defer,
    touch_channel,
)
from bandeja.core.ingest.models import RawEvent
from bandeja.core.ingest.types import Ignored, PlatformEvent
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

    @staticmethod
    def _targets(
        raw: RawEvent, channel: ChannelAccount, accounts: dict[str, ChannelAccount]
    ) -> list[ChannelAccount]:
        """The channel accounts a delivery is for: the URL's, plus those of the same workspace
        and platform that it names (one Meta app delivers every Page's events to one URL).
        ``accounts``: that workspace's accounts of that platform, by external id."""
        others = connector_for(channel.platform).accounts_in(raw.body) - {channel.external_id}
        return [channel, *(accounts[e] for e in sorted(others) if e in accounts)]

    async def _events(self, raw: RawEvent, channel: ChannelAccount) -> list[PlatformEvent]:
        """Parse (and, for platforms whose notifications carry only ids, expand) a delivery.
        Runs before the SAVEPOINT so that no database lock is held during API calls."""
        config = channel_config(channel, self.box)
        connector = connector_for(channel.platform)
        events = connector.parse(config, raw.body)
        return await connector.expand(self.client, config, events)

    async def _process(
        self,
        session: AsyncSession,
        raw: RawEvent,
        channel: ChannelAccount,
        accounts: dict[str, ChannelAccount],
    ) -> str | None:
        """Apply one delivery; returns the error that failed it, or None."""
        try:
            work = [
                (target, await self._events(raw, target))
                for target in self._targets(raw, channel, accounts)
            ]
        except Exception as exc:
            log.exception("raw event %s (%s) cannot be parsed", raw.id, raw.platform)
            mark_failed(raw, f"{type(exc).__name__}: {exc}")
            return raw.error
        mark = pending_mark(session)
        waiting: list[str] = []
        retry = raw.retry_at is not None
        try:
            async with session.begin_nested():
                for target, events in work:
                    for event in events:
                        if retry and isinstance(event, Ignored):
                            continue  # counted on the first attempt
                        try:
                            await apply_event(session, target, event, defer_unknown=may_defer(raw))
                        except NotYetKnown as exc:
                            # Raised before it wrote anything: the other events still apply;
                            # the whole delivery comes back later (applying is idempotent).
                            waiting.append(str(exc))
        except Exception as exc:
            discard_since(session, mark)
            log.exception("raw event %s (%s) failed", raw.id, raw.platform)
            mark_failed(raw, f"{type(exc).__name__}: {exc}")
            return raw.error
        if waiting:
            mark_deferred(raw, "; ".join(waiting))
        else:
            mark_processed(raw)
        return None

    async def run_once(self) -> int:
        """Process one batch; returns how many deliveries it handled."""
        async with self.sessions() as session:
            raws = await claim_pending(session, limit=self.batch)
            if not raws:
                return 0
            # One read of the accounts involved per batch, not per delivery.
            keys = {(r.workspace_id, r.platform) for r in raws}
            rows = await session.execute(
                select(ChannelAccount).where(
                    or_(
                        *(
                            (ChannelAccount.workspace_id == w) & (ChannelAccount.platform == p)
                            for w, p in keys
                        )
                    )
                )
            )
            by_id: dict[int, ChannelAccount] = {}
            by_external: dict[tuple[int, str], dict[str, ChannelAccount]] = {}
            for account in rows.scalars():
                by_id[account.id] = account
                key = (account.workspace_id, account.platform.value)
                by_external.setdefault(key, {})[account.external_id] = account
            errors: dict[int, str | None] = {}
            for raw in raws:
                channel = by_id[raw.channel_account_id]  # the foreign key cascades deletes
                accounts = by_external[(channel.workspace_id, channel.platform.value)]
                error = await self._process(session, raw, channel, accounts)
                errors[channel.id] = error or errors.get(channel.id)
            # Channel health: each account touched once per batch, with its last error.
            for channel_id, error in errors.items():
                await touch_channel(session, by_id[channel_id], error=error)
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
