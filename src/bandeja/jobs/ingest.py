"""The ingest worker: stored webhook deliveries → platform events → the core.

Deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` so that several workers (processes) share
the queue, and a batch is applied in ONE transaction without SAVEPOINTs and without autoflush:
the changes of the whole batch are flushed once, at the commit (a SAVEPOINT costs two round trips
and a flush about a millisecond of CPU; per delivery they were most of its cost).

A delivery whose application fails (a parser bug, a surprise payload, a lost lock race) rolls the
batch back; the batch is then applied again with that delivery alone inside a SAVEPOINT, so that
it is marked ``failed`` with its error and stays stored for ``bandeja events replay``, while the
rest of the batch goes through. A failure that cannot be pinned on one delivery (at the commit's
flush) makes the next attempt put every delivery in its own SAVEPOINT.

A failure that says nothing about the deliveries (a deadlock with another worker holding locks on
the same new people, a lost connection) fails none of them: the batch is rolled back and applied
again as it was, a few times, and after that left pending for the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

import httpx
from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.channels.base import ChannelConfig
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
from bandeja.core.ingest.types import Ignored, MessageReceived, PlatformEvent
from bandeja.core.messages.known import Wanted, prefetch
from bandeja.core.security import SecretBox
from bandeja.core.text import clean_text

log = logging.getLogger(__name__)

Work = list[tuple[ChannelAccount, list[PlatformEvent]]]

# PostgreSQL's deadlock_detected, serialization_failure and lock_not_available: another
# transaction was in the way, the same statements succeed once it is gone.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
TRANSIENT_RETRIES = 3  # immediate re-runs of a batch after a transient failure


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's, not the delivery's (see the module's docstring)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    # SQLite: another writer kept the lock beyond busy_timeout.
    return "database is locked" in str(exc.orig)


class _Retry(Exception):
    """The batch failed and was rolled back; ``raw_id``: the delivery to isolate in a SAVEPOINT
    next time (None: the failure is not one delivery's, isolate them all)."""

    def __init__(self, raw_id: int | None) -> None:
        super().__init__(raw_id)
        self.raw_id = raw_id


class IngestWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        client: httpx.AsyncClient,
        *,
        batch: int = 100,
        idle_s: float = 1.0,
        pace: float = 0.0,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.client = client
        self.batch = batch
        self.idle_s = idle_s
        # After a full batch (a backlog), pause for this fraction of its time: the webhook
        # endpoint on the same machine keeps the CPU and the database it needs to answer fast.
        self.pace = pace
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

    async def _events(self, raw: RawEvent, config: ChannelConfig) -> list[PlatformEvent]:
        """Parse (and, for platforms whose notifications carry only ids, expand) a delivery.
        Runs before anything is written so that no lock waits on a platform API call."""
        connector = connector_for(config.platform)
        events = connector.parse(config, raw.body)
        return await connector.expand(self.client, config, events)

    async def _parse(
        self,
        raw: RawEvent,
        channel: ChannelAccount,
        accounts: dict[str, ChannelAccount],
        configs: dict[int, ChannelConfig],
    ) -> Work | None:
        """The events of a delivery for each channel account it is for; None (and the delivery
        marked failed) when it cannot be parsed. ``configs``: decrypted once per batch."""
        try:
            work: Work = []
            for target in self._targets(raw, channel, accounts):
                config = configs.get(target.id)
                if config is None:
                    config = configs[target.id] = channel_config(target, self.box)
                work.append((target, await self._events(raw, config)))
        except Exception as exc:
            log.exception("raw event %s (%s) cannot be parsed", raw.id, raw.platform)
            mark_failed(raw, f"{type(exc).__name__}: {exc}")
            return None
        return work

    @staticmethod
    async def _apply(session: AsyncSession, raw: RawEvent, work: Work) -> list[str]:
        """Apply a parsed delivery; returns what it waits for (events about messages not stored
        yet: the whole delivery comes back later, and applying it again is idempotent)."""
        waiting: list[str] = []
        retry = raw.retry_at is not None
        for target, events in work:
            for event in events:
                if retry and isinstance(event, Ignored):
                    continue  # counted on the first attempt
                try:
                    await apply_event(session, target, event, defer_unknown=may_defer(raw))
                except NotYetKnown as exc:
                    # Raised before it wrote anything: the other events still apply.
                    waiting.append(str(exc))
        return waiting

    async def _apply_isolated(self, session: AsyncSession, raw: RawEvent, work: Work) -> str | None:
        """Apply a delivery inside its own SAVEPOINT; returns the error that failed it, or None."""
        mark = pending_mark(session)
        try:
            async with session.begin_nested():
                waiting = await self._apply(session, raw, work)
        except Exception as exc:
            discard_since(session, mark)
            if transient(exc):
                raise  # not this delivery's fault: the batch is applied again
            log.exception("raw event %s (%s) failed", raw.id, raw.platform)
            mark_failed(raw, f"{type(exc).__name__}: {exc}")
            return raw.error
        _settle(raw, waiting)
        return None

    async def run_once(self) -> int:
        """Process one batch; returns how many deliveries it handled."""
        isolated: set[int] = set()
        isolate_all = False
        transient_left = TRANSIENT_RETRIES
        # Each retry isolates one more delivery, or all of them: bounded by the batch size (and
        # by TRANSIENT_RETRIES for the database's own failures).
        for _ in range(self.batch + 2 + TRANSIENT_RETRIES):
            try:
                return await self._run_batch(isolated, isolate_all=isolate_all)
            except DBAPIError as exc:
                if not transient(exc) or transient_left == 0:
                    raise  # the run loop logs it; the deliveries stay pending
                transient_left -= 1
                log.warning("an ingest batch met a transient failure; applied again: %s", exc)
            except _Retry as retry:
                if retry.raw_id is None or retry.raw_id in isolated:
                    isolate_all = True
                else:
                    isolated.add(retry.raw_id)
        raise RuntimeError("an ingest batch kept failing")  # pragma: no cover

    async def _run_batch(self, isolated: set[int], *, isolate_all: bool) -> int:
        async with self.sessions() as session:
            raws = await claim_pending(session, limit=self.batch)
            if not raws:
                return 0
            by_id, by_external = await _accounts(session, raws)
            # Parse the whole batch before writing: no row lock is held during the API calls
            # some platforms need (LinkedIn notifications carry only ids).
            configs: dict[int, ChannelConfig] = {}
            parsed: list[tuple[RawEvent, ChannelAccount, Work | None]] = []
            for raw in raws:
                channel = by_id[raw.channel_account_id]  # the foreign key cascades deletes
                accounts = by_external[(channel.workspace_id, channel.platform.value)]
                parsed.append((raw, channel, await self._parse(raw, channel, accounts, configs)))
            if not isolated and not isolate_all:
                # Three reads for the whole batch instead of three per message (known.py). Not
                # with SAVEPOINTs: a rolled-back one would leave it knowing rows that are gone.
                await prefetch(session, _wanted(parsed))
            errors: dict[int, str | None] = {}
            for raw, channel, work in parsed:
                error = raw.error if work is None else None
                if work is not None and (isolate_all or raw.id in isolated):
                    await _flush(session)  # the batch so far, before the SAVEPOINT
                    error = await self._apply_isolated(session, raw, work)
                elif work is not None:
                    try:
                        with session.no_autoflush:
                            waiting = await self._apply(session, raw, work)
                    except Exception as exc:
                        if transient(exc):
                            raise
                        log.warning(
                            "raw event %s (%s) failed: its batch is applied again with it "
                            "in a SAVEPOINT",
                            raw.id,
                            raw.platform,
                            exc_info=True,
                        )
                        raise _Retry(raw.id) from exc
                    _settle(raw, waiting)
                errors[channel.id] = error or errors.get(channel.id)
                # Let the web requests of this process (workers in-process) be answered between
                # two deliveries.
                await asyncio.sleep(0)
            # Channel health: each account touched once per batch, with its last error.
            for channel_id, error in errors.items():
                await touch_channel(session, by_id[channel_id], error=error)
            await _flush(session)
            await session.commit()
            return len(raws)

    async def run(self) -> None:
        """Process until cancelled; sleeps when idle, wakes early when a delivery arrives."""
        while True:
            started = time.monotonic()
            try:
                handled = await self.run_once()
            except Exception:  # keep the worker alive across a passing database error
                log.exception("ingest batch failed")
                handled = 0
            if handled < self.batch:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_s)
            elif self.pace > 0:
                await self.pause((time.monotonic() - started) * self.pace)

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _wanted(parsed: list[tuple[RawEvent, ChannelAccount, Work | None]]) -> Iterator[Wanted]:
    """What the inbound messages of a parsed batch will look up."""
    for _raw, _channel, work in parsed:
        for target, events in work or ():
            for event in events:
                if isinstance(event, MessageReceived):
                    yield Wanted(
                        message=(target.id, event.external_id) if event.external_id else None,
                        # As ``contacts.actions.identify`` cleans it before looking it up.
                        identity=(target.id, clean_text(event.sender.external_id)),
                        thread=(target.id, event.thread.kind, event.thread.key),
                    )


def _settle(raw: RawEvent, waiting: list[str]) -> None:
    if waiting:
        mark_deferred(raw, "; ".join(waiting))
    else:
        mark_processed(raw)


async def _flush(session: AsyncSession) -> None:
    """Flush the batch's changes; a failure here is no single delivery's."""
    try:
        await session.flush()
    except Exception as exc:
        if transient(exc):
            raise
        log.warning("an ingest batch failed at its flush; applied again one by one", exc_info=True)
        raise _Retry(None) from exc


async def _accounts(
    session: AsyncSession, raws: list[RawEvent]
) -> tuple[dict[int, ChannelAccount], dict[tuple[int, str], dict[str, ChannelAccount]]]:
    """One read of the accounts involved per batch, not per delivery: by id, and by
    (workspace, platform) then external id."""
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
    return by_id, by_external
