"""Shared fixtures. Every database test runs twice: on SQLite and on a real PostgreSQL server
started for the test session (``BANDEJA_TEST_BACKENDS=sqlite`` narrows that for a quick run).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bandeja.channels.sandbox.state import SandboxState
from bandeja.config import Settings
from bandeja.core.models import metadata
from bandeja.jobs.runner import Workers
from bandeja.storage.engine import create_engine, session_factory
from bandeja.storage.migrate import upgrade
from bandeja.web import hooks
from bandeja.web.app import create_app
from tests.support.factory import BOX, SECRET_KEY, Factory
from tests.support.postgres import PostgresServer, postgres_server

BACKENDS = [
    b.strip()
    for b in os.environ.get("BANDEJA_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``postgresql_only`` (what it checks only exists there, such as lock order
    across connections) is not collected for SQLite at all, rather than reported skipped."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("engine") if callspec is not None else None
        if item.get_closest_marker("postgresql_only") and backend == "sqlite":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session", params=BACKENDS)
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("pg_server")
        url = server.create_database("bandeja_test")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bandeja-test-"))
        url = f"sqlite+aiosqlite:///{tmp / 'test.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    yield engine
    app = _APPS.pop(id(engine), None)
    if app is not None:  # the webhook route's own connections (core/ingest/recorder.py)
        await app.state.recorder.close()
    await engine.dispose()


async def _wipe(engine: AsyncEngine) -> None:
    """Empty every table and restart the ids. ``DELETE`` in dependency order: PostgreSQL's
    ``TRUNCATE`` costs about 0.2 s per test even for tables holding a few rows."""
    tables = list(reversed(metadata.sorted_tables))
    async with engine.begin() as conn:
        for table in tables:
            await conn.execute(table.delete())
        if engine.dialect.name == "postgresql":
            restarts = ", ".join(
                f"setval(pg_get_serial_sequence('{t.name}', 'id'), 1, false)"
                for t in tables
                if "id" in t.c
            )
            await conn.execute(text(f"SELECT {restarts}"))


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a database emptied after the test."""
    yield session_factory(engine)
    await _wipe(engine)


@pytest.fixture
async def db(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
def factory(db: AsyncSession) -> Factory:
    return Factory(db)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", data_dir=tmp_path, secret_key=SECRET_KEY)


_APPS: dict[int, FastAPI] = {}


@pytest.fixture
async def app(engine: AsyncEngine, sessions: object, settings: Settings) -> FastAPI:
    """The real app, built once per database backend: FastAPI prepares its routes on the first
    request of each app, which hundreds of short tests would pay again and again. Its channel
    cache starts empty for every test, since ids restart with each emptied database."""
    if id(engine) not in _APPS:
        _APPS[id(engine)] = create_app(settings, engine=engine, background=False)
    app = _APPS[id(engine)]
    app.state.channel_cache = hooks.ChannelCache(app.state.sessions, app.state.secret_box)
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class QueryCounter:
    """Counts the SQL statements sent to the database (transaction control excluded)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head not in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}:
            self.statements.append(statement)

    @contextlib.contextmanager
    def count(self) -> Iterator[list[str]]:
        self.statements = []
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._on_execute)
        try:
            yield self.statements
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", self._on_execute)


@pytest.fixture
def queries(engine: AsyncEngine) -> QueryCounter:
    return QueryCounter(engine)


@pytest.fixture
async def workers(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Workers]:
    """The ingest and send workers, driven by the test (``await workers.drain()``); platform API
    calls go to an in-process sandbox (see ``sandbox`` below) unless a test sets another."""
    from bandeja.channels.sandbox.app import sandbox_transport

    state = SandboxState()
    runner = Workers(sessions, BOX, transport=sandbox_transport(state))
    runner.sandbox = state  # type: ignore[attr-defined]
    # Tests see the outcome once time has passed: a delivery about a message that is not stored
    # (yet) stops waiting for it. Tests of the waiting itself pass settle=False.
    runner.drain = functools.partial(runner.drain, settle=True)  # type: ignore[method-assign]
    yield runner
    await runner.stop()
