"""How the webhook route stores a verified delivery: one statement, before the platform's 2xx.

On PostgreSQL a pool of plain asyncpg connections runs one prebuilt ``INSERT … ON CONFLICT DO
NOTHING RETURNING id`` in autocommit: one round trip per delivery. Through a SQLAlchemy session
the same insert costs six (pool pre-ping, BEGIN, the insert, COMMIT, ...) and about ten times
the CPU, on the path that decides how many deliveries a process acknowledges per second.
Elsewhere (SQLite, a single local file) the session path is used: ``record_raw_event``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.core.ingest.actions import KEPT_HEADERS, record_raw_event
from bandeja.core.ingest.models import RawEventStatus
from bandeja.storage.base import utcnow


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified webhook delivery, as the route received it."""

    workspace_id: int
    channel_account_id: int
    platform: str
    body: bytes
    headers: Mapping[str, str]

    def kept_headers(self) -> dict[str, str]:
        """The headers worth keeping (replay, debugging); never cookies or auth."""
        return {k: v for k, v in self.headers.items() if k.lower() in KEPT_HEADERS}


class Recorder(Protocol):
    async def record(self, delivery: Delivery) -> int | None:
        """Store ``delivery``; its id, or None when the same body was stored before."""

    async def close(self) -> None: ...


class SessionRecorder:
    """One short transaction per delivery through the ORM session (SQLite)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def record(self, delivery: Delivery) -> int | None:
        async with self.sessions() as session:
            inserted = await record_raw_event(
                session,
                channel_account_id=delivery.channel_account_id,
                workspace_id=delivery.workspace_id,
                platform=delivery.platform,
                body=delivery.body,
                headers=delivery.kept_headers(),
            )
            await session.commit()
        return inserted

    async def close(self) -> None:
        return None


# The columns of ``RawEvent`` (models.py); the status and attempts of a new delivery are the
# model's defaults. ``uq_raw_events_dedupe`` stores a platform's re-sent body once.
_INSERT = """
INSERT INTO raw_events
    (workspace_id, channel_account_id, platform, dedupe_key, headers, body, received_at,
     status, attempts)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, 0)
ON CONFLICT (channel_account_id, dedupe_key) DO NOTHING
RETURNING id
"""


async def _keep_session_state(_connection: Any) -> None:
    """The pool's reset between two uses. asyncpg's default runs ``RESET ALL; CLOSE ALL;
    UNLISTEN *; ...`` (a round trip); these connections only ever run ``_INSERT`` in
    autocommit, so there is nothing to reset (an interrupted transaction is still rolled back
    by the pool)."""


class PostgresRecorder:
    """The insert on a pool of asyncpg connections of its own, opened on first use."""

    def __init__(self, url: URL, *, pool_size: int) -> None:
        # asyncpg takes a libpq-style URL: the same server, user and database as the engine's.
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.pool_size = pool_size
        self._pool: Any = None
        self._opening = asyncio.Lock()

    async def _open(self) -> Any:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=self.pool_size,
                    reset=_keep_session_state,
                )
        return self._pool

    async def record(self, delivery: Delivery) -> int | None:
        pool = self._pool or await self._open()
        inserted: int | None = await pool.fetchval(
            _INSERT,
            delivery.workspace_id,
            delivery.channel_account_id,
            delivery.platform,
            hashlib.sha256(delivery.body).hexdigest(),
            json.dumps(delivery.kept_headers()),
            delivery.body,
            utcnow(),
            RawEventStatus.pending.value,
        )
        return inserted

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def recorder_for(
    url: URL, sessions: async_sessionmaker[AsyncSession], *, pool_size: int
) -> Recorder:
    if url.get_backend_name() == "postgresql":
        return PostgresRecorder(url, pool_size=pool_size)
    return SessionRecorder(sessions)
