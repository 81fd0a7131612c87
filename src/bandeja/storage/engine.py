"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin); this is
    # also what makes SAVEPOINTs work on SQLite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run during a write; NORMAL is durable across process crashes in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Several writers (web + worker) wait for the lock instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock at BEGIN. A deferred transaction that reads and then writes fails with
    # "database is locked" at once when another writer got in between; an immediate one waits
    # (busy_timeout) and then sees the latest data.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={
            # Tenant skew makes PostgreSQL's generic plans (chosen after five executions of a
            # prepared statement) up to 100x slower for the inbox queries: always plan with the
            # actual parameter values.
            # Parallel workers scan far ahead of an inbox page's LIMIT: a tag on 0.5% of a
            # million conversations took 300-400 ms in parallel and ~40 ms without.
            "server_settings": {
                "plan_cache_mode": "force_custom_plan",
                "jit": "off",
                "max_parallel_workers_per_gather": "0",
            },
        },
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit: routes serialise them once the transaction is over.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def is_postgresql(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"
