"""Inbox UI benchmark: server time of the inbox page and of opening a conversation, p50/p95, on
PostgreSQL with a large workspace.

    flock /tmp/bandeja-bench.lock .venv/bin/python -m bench.ui_pages                # 100,000
    flock /tmp/bandeja-bench.lock .venv/bin/python -m bench.ui_pages --conversations 20000

The workspace is built by ``bench/inbox_queries.py`` (the same generator and bulk load), plus two
saved views, so that the view list counts what a real one would. The application is the one
``bandeja serve`` runs (production settings, its start-up and shut-down), called in-process through
``httpx.ASGITransport`` with a real session cookie: routing, the session, the queries, the
templates. Each request is timed inside the ASGI call, from its start to the last byte of the
response (the server's time, without a network), and from the client (plus httpx's own work).
Opening a conversation also marks it read (one write and a commit), as in the browser. It prints
figures and the target (p95 <= 50 ms); it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.table import Table
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bandeja.config import Settings  # noqa: E402
from bandeja.core.access import Actor, visible_channels  # noqa: E402
from bandeja.core.conversations.filters import ConversationFilter  # noqa: E402
from bandeja.core.conversations.models import Conversation, Kind, Status  # noqa: E402
from bandeja.core.security import hash_password  # noqa: E402
from bandeja.core.users.auth import login  # noqa: E402
from bandeja.core.users.models import Role, User  # noqa: E402
from bandeja.core.views.actions import create_view  # noqa: E402
from bandeja.core.views.schemas import ViewIn  # noqa: E402
from bandeja.storage.engine import create_engine, session_factory  # noqa: E402
from bandeja.web.app import create_app  # noqa: E402
from bandeja.web.deps import SESSION_COOKIE  # noqa: E402
from bench.inbox_queries import (  # noqa: E402 - after the path set-up above
    AGENT,
    PG_SETTINGS,
    USERS,
    Plan,
    World,
    console,
    percentile,
    prepare_postgresql,
)

TARGET_P95_MS = 50.0
PASSWORD = "bench-password"
app = typer.Typer(add_completion=False, help=__doc__)


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    urls: Callable[[int], str]  # run number -> URL
    htmx: bool


@dataclass
class Samples:
    """One page's timed runs (ms) and what its last run sent and returned."""

    page: Page
    server: list[float]
    client: list[float]
    sql: list[float]
    statements: int = 0
    size: int = 0
    spent: float = 0.0
    slowest_sql: list[tuple[float, str]] | None = None


Sessions = async_sessionmaker[AsyncSession]


async def _login(sessions: Sessions, email: str) -> str:
    """A browser session for ``email`` (the generated users have no password: set one)."""
    async with sessions() as session:
        await session.execute(
            update(User).where(User.email == email).values(password_hash=hash_password(PASSWORD))
        )
        browser = await login(
            session, email=email, password=PASSWORD, workspace_slug=None, lifetime=timedelta(1)
        )
        await session.commit()
    return browser.token


async def _saved_views(sessions: Sessions, world: World) -> None:
    """A shared view with a tag (counted by a scan) and a personal one the counters answer."""
    async with sessions() as session:
        tags = world.tag_ids
        await create_view(
            session,
            world.owner,
            ViewIn(
                name="Open complaints",
                shared=True,
                filters=ConversationFilter(status=[Status.open], tag_ids=[tags["complaint"]]),
            ),
        )
        await create_view(
            session,
            world.owner,
            ViewIn(
                name="Open comments",
                filters=ConversationFilter(status=[Status.open], kinds=[Kind.comment]),
            ),
        )
        await session.commit()


async def _sample_ids(
    sessions: Sessions, world: World, actor: Actor, n: int, seed: int
) -> list[int]:
    """Conversations an agent would open: open ones the actor sees, spread over the table (none
    read yet: each is opened once, so every timed opening also writes its read mark)."""
    async with sessions() as session:
        ids = list(
            (
                await session.execute(
                    select(Conversation.id).where(
                        Conversation.workspace_id == world.workspace_id,
                        Conversation.status == Status.open,
                        visible_channels(actor, Conversation.channel_account_id),
                    )
                )
            ).scalars()
        )
    if len(ids) < n:
        raise SystemExit(f"only {len(ids)} open conversations to open, {n} needed")
    random.Random(seed).shuffle(ids)
    return ids[:n]


def _opening(ids: list[int]) -> Callable[[int], str]:
    """Run ``n`` opens ``ids[n]``; the warm-up runs (numbered from ``WARM_RUN``) the last ids."""

    def url(run: int) -> str:
        return f"/inbox/c/{ids[run if run < WARM_RUN else len(ids) - 1 - (run - WARM_RUN)]}"

    return url


WARM_RUN = 1_000_000
WARM_UP = 3


class ServerClock:
    """Wraps the application: the time from the start of the ASGI call to the last byte of the
    response, which is what the browser waits for (the network aside)."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application
        self.last_ms = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - started) * 1000

        await self.application(scope, receive, timed_send)


class StatementClock:
    """SQL statements of a request and the time spent in them (driver round trips included)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[float, str]] = []
        self._started: list[float] = []
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)

    def _before(self, *_args: object) -> None:
        self._started.append(time.perf_counter())

    def _after(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        took = time.perf_counter() - self._started.pop()
        self.count += 1
        self.seconds += took
        self.statements.append((took * 1000, " ".join(statement.split())[:110]))

    def reset(self) -> None:
        self.count, self.seconds, self.statements = 0, 0.0, []


async def _get(client: httpx.AsyncClient, page: Page, run: int) -> httpx.Response:
    headers = {"HX-Request": "true"} if page.htmx else {}
    r = await client.get(page.urls(run), headers=headers)
    if r.status_code != 200:
        raise SystemExit(f"{page.name}: {r.status_code} {r.text[:300]}")
    return r


async def _time_pages(
    client: httpx.AsyncClient,
    pages: list[Page],
    repeat: int,
    budget_s: float,
    server: ServerClock,
    clock: StatementClock,
) -> list[Samples]:
    """Time every page ``repeat`` times, round-robin, so that whatever else the machine does
    falls on all pages alike; a page stops once it has used ``budget_s``."""
    for page in pages:
        for warm in range(WARM_UP):  # templates compiled, statement caches filled: not counted
            await _get(client, page, WARM_RUN + warm)
    samples = [Samples(page, [], [], []) for page in pages]
    for run in range(repeat):
        for s in samples:
            if s.spent > budget_s:
                continue
            clock.reset()
            started = time.perf_counter()
            r = await _get(client, s.page, run)
            elapsed = time.perf_counter() - started
            s.spent += elapsed
            s.client.append(elapsed * 1000)
            s.server.append(server.last_ms)
            s.sql.append(clock.seconds * 1000)
            s.size, s.statements = len(r.content), clock.count
            s.slowest_sql = sorted(clock.statements, reverse=True)[:6]
    for s in samples:
        s.server.sort()
        s.client.sort()
        s.sql.sort()
    return samples


Measured = tuple[str, Samples]


async def run(
    url: str, plan: Plan, repeat: int, budget_s: float, show_sql: bool
) -> tuple[list[Measured], tuple[float, float]]:
    # What `bandeja serve` runs in production (no workers: nothing arrives during the timings).
    settings = Settings(
        env="production",
        database_url=url,
        secret_key="bench-secret-key-0123456789abcdefghij",
        redis_url="",
        workers_in_process=False,
    )
    engine = create_engine(url, pool_size=settings.database_pool_size)
    try:
        world, _report = await prepare_postgresql(engine, plan, reuse=False)
        sessions = session_factory(engine)
        await _saved_views(sessions, world)
        application = create_app(settings, engine=engine, background=False)
        server = ServerClock(application)
        clock = StatementClock(engine)
        admin = Actor(world.user_ids[1], world.workspace_id, Role.admin)
        assert USERS[1][2] == Role.admin
        results: list[Measured] = []
        load_before = os.getloadavg()[0]
        # The application's own start-up (the realtime broker; the heap settled for the GC).
        async with application.router.lifespan_context(application):
            for who, email, actor in (
                ("admin", USERS[1][0], admin),
                ("agent", USERS[AGENT][0], world.agent),
            ):
                token = await _login(sessions, email)
                ids = await _sample_ids(sessions, world, actor, 2 * (repeat + WARM_UP), plan.seed)
                half = len(ids) // 2
                pages = [
                    Page("GET /inbox (full page)", lambda _n: "/inbox", htmx=False),
                    Page("GET /inbox?view=mine (list, htmx)", lambda _n: "/inbox?view=mine", True),
                    Page("GET /inbox/c/{id} (pane, htmx)", _opening(ids[:half]), htmx=True),
                    Page("GET /inbox/c/{id} (full page)", _opening(ids[half:]), htmx=False),
                    Page("GET /inbox/views (view counts)", lambda _n: "/inbox/views", htmx=True),
                ]
                before = os.getloadavg()[0]
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=server),
                    base_url="http://127.0.0.1",
                    cookies={SESSION_COOKIE: token},
                ) as client:
                    for s in await _time_pages(client, pages, repeat, budget_s, server, clock):
                        results.append((who, s))
                        console.print(
                            f"  {who:5} {s.page.name:38} server p50 "
                            f"{percentile(s.server, 50):6.1f} ms  p95 "
                            f"{percentile(s.server, 95):6.1f} ms  ({len(s.server)} runs, "
                            f"{s.statements} statements)"
                        )
                        if show_sql and s.slowest_sql:
                            for took, text in s.slowest_sql:
                                console.print(f"      {took:6.2f} ms  {text}")
                # On a shared machine p95 follows whatever else runs: say how busy it was.
                console.print(
                    f"  {who}: 1-minute load average {before:.2f} before, "
                    f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
                )
        return results, (load_before, os.getloadavg()[0])
    finally:
        await engine.dispose()


@app.command()
def main(
    conversations: Annotated[
        int, typer.Option(min=1_000, max=2_000_000, help="Conversations to create.")
    ] = 100_000,
    repeat: Annotated[int, typer.Option(min=10, max=2_000, help="Timed requests per page.")] = 200,
    budget: Annotated[
        float, typer.Option(min=1, max=600, help="Seconds at most spent timing one page.")
    ] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the data.")] = 20261122,
    show_sql: Annotated[
        bool, typer.Option(help="Print the slowest statements of each page's last request.")
    ] = False,
) -> None:
    from tests.support.postgres import postgres_server

    plan = Plan(conversations, 5, seed, 10_000)
    with contextlib.ExitStack() as stack:
        console.print(f"Starting a private PostgreSQL server ({PG_SETTINGS})")
        server = stack.enter_context(postgres_server(settings=PG_SETTINGS))
        url = server.create_database("bandeja_bench_ui")
        results, (before, after) = asyncio.run(run(url, plan, repeat, budget, show_sql))
    table = Table(title=f"UI server time, PostgreSQL, {conversations:,} conversations")
    for column in (
        "actor",
        "page",
        "runs",
        "p50 ms",
        "p95 ms",
        "max ms",
        "client p95",
        "SQL",
        "SQL p50 ms",
        "KB",
        f"p95 <= {TARGET_P95_MS:g}",
    ):
        table.add_column(column, justify="left" if column in ("actor", "page") else "right")
    for who, s in results:
        p95 = percentile(s.server, 95)
        table.add_row(
            who,
            s.page.name,
            str(len(s.server)),
            f"{percentile(s.server, 50):.1f}",
            f"{p95:.1f}",
            f"{s.server[-1]:.1f}",
            f"{percentile(s.client, 95):.1f}",
            str(s.statements),
            f"{percentile(s.sql, 50):.1f}",
            f"{s.size / 1024:.0f}",
            "yes" if p95 <= TARGET_P95_MS else "NO",
        )
    console.print(table)
    console.print(
        "server: from the start of the ASGI call to the response's last byte; client: the same "
        "seen by httpx. SQL: statements of one request (an opening marks an unread conversation "
        "read)."
    )
    console.print(
        f"1-minute load average {before:.2f} before the timings, {after:.2f} after "
        f"({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    app()
