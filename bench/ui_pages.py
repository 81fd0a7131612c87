"""Inbox UI benchmark: server time of the inbox page and of opening a conversation, p50/p95, on
PostgreSQL with a large workspace.

    flock /tmp/bandeja-bench.lock .venv/bin/python -m bench.ui_pages                # 100,000
    flock /tmp/bandeja-bench.lock .venv/bin/python -m bench.ui_pages --conversations 20000

The workspace is built by ``bench/inbox_queries.py`` (the same generator and bulk load), plus two
saved views, so that the view list counts what a real one would. Requests go through the whole
application in-process (``httpx.ASGITransport``: routing, the session cookie, the queries, the
templates), each timed from request to complete response: the server's time, without a network.
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
from sqlalchemy.ext.asyncio import AsyncEngine

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bandeja.config import Settings  # noqa: E402
from bandeja.core.access import Actor  # noqa: E402
from bandeja.core.conversations.filters import ConversationFilter  # noqa: E402
from bandeja.core.conversations.models import Conversation, Kind, Status  # noqa: E402
from bandeja.core.security import hash_password  # noqa: E402
from bandeja.core.users.auth import login  # noqa: E402
from bandeja.core.users.models import User  # noqa: E402
from bandeja.core.views.actions import create_view  # noqa: E402
from bandeja.core.views.schemas import ViewIn  # noqa: E402
from bandeja.storage.engine import create_engine, session_factory  # noqa: E402
from bandeja.web.app import create_app  # noqa: E402
from bandeja.web.deps import SESSION_COOKIE  # noqa: E402
from bench.inbox_queries import (  # noqa: E402 - after the path set-up above
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


async def _login(sessions, world: World, email: str) -> tuple[str, str]:
    """A browser session for ``email`` (the generated users have no password: set one)."""
    async with sessions() as session:
        await session.execute(
            update(User).where(User.email == email).values(password_hash=hash_password(PASSWORD))
        )
        browser = await login(
            session, email=email, password=PASSWORD, workspace_slug=None, lifetime=timedelta(1)
        )
        await session.commit()
    return browser.token, browser.csrf_token


async def _saved_views(sessions, world: World) -> None:
    """A shared view with a tag (counted by a scan) and a personal one the counters answer."""
    owner = world.owner
    async with sessions() as session:
        tags = world.tag_ids
        await create_view(
            session,
            owner,
            ViewIn(
                name="Open complaints",
                shared=True,
                filters=ConversationFilter(status=[Status.open], tag_ids=[tags["complaint"]]),
            ),
        )
        await create_view(
            session,
            owner,
            ViewIn(
                name="Open comments",
                filters=ConversationFilter(status=[Status.open], kinds=[Kind.comment]),
            ),
        )
        await session.commit()


async def _sample_ids(sessions, world: World, actor: Actor, n: int, seed: int) -> list[int]:
    """Conversations an agent would open: open ones the actor sees, spread over the table."""
    from bandeja.core.access import visible_channels

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
    random.Random(seed).shuffle(ids)
    return ids[:n]


def _opening(ids: list[int], shift: int) -> Callable[[int], str]:
    def url(run: int) -> str:
        return f"/inbox/c/{ids[(run * 2 + shift) % len(ids)]}"

    return url


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


async def _time(
    client: httpx.AsyncClient,
    page: Page,
    repeat: int,
    budget_s: float,
    clock: StatementClock,
    show_sql: bool = False,
) -> tuple[list[float], int, list[float], int]:
    headers = {"HX-Request": "true"} if page.htmx else {}
    for warm in range(3):
        r = await client.get(page.urls(10_000 + warm), headers=headers)
        if r.status_code != 200:
            raise SystemExit(f"{page.name}: {r.status_code} {r.text[:300]}")
    times: list[float] = []
    db_times: list[float] = []
    deadline = time.monotonic() + budget_s
    size = statements = 0
    for run in range(repeat):
        clock.reset()
        started = time.perf_counter()
        r = await client.get(page.urls(run), headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if r.status_code != 200:
            raise SystemExit(f"{page.name}: {r.status_code} {r.text[:300]}")
        times.append(elapsed)
        db_times.append(clock.seconds * 1000)
        size, statements = len(r.content), clock.count
        if time.monotonic() > deadline:
            break
    if show_sql:
        for took, text in sorted(clock.statements, reverse=True)[:6]:
            console.print(f"      {took:6.2f} ms  {text}")
    return sorted(times), size, sorted(db_times), statements


Measured = tuple[str, str, list[float], int, list[float], int]


async def run(url: str, plan: Plan, repeat: int, budget_s: float, show_sql: bool) -> list[Measured]:
    engine = create_engine(url)
    try:
        world, _report = await prepare_postgresql(engine, plan, reuse=False)
        sessions = session_factory(engine)
        await _saved_views(sessions, world)
        settings = Settings(env="test", secret_key="bench-secret-key-0123456789abcdefghij")
        application = create_app(settings, engine=engine, background=False)
        clock = StatementClock(engine)
        results: list[Measured] = []
        for who, email, actor in (
            ("owner", USERS[0][0], world.owner),
            ("agent", USERS[2][0], world.agent),
        ):
            token, _csrf = await _login(sessions, world, email)
            ids = await _sample_ids(sessions, world, actor, repeat + 3, seed=plan.seed)
            pages = [
                Page("GET /inbox (full page)", lambda _n: "/inbox", htmx=False),
                Page("GET /inbox?view=mine (list, htmx)", lambda _n: "/inbox?view=mine", True),
                Page("GET /inbox/c/{id} (pane, htmx)", _opening(ids, 0), htmx=True),
                Page("GET /inbox/c/{id} (full page)", _opening(ids, 1), htmx=False),
                Page("GET /inbox/views (view counts)", lambda _n: "/inbox/views", htmx=True),
            ]
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://127.0.0.1",
                cookies={SESSION_COOKIE: token},
            ) as client:
                for page in pages:
                    times, size, db_times, statements = await _time(
                        client, page, repeat, budget_s, clock, show_sql
                    )
                    results.append((who, page.name, times, size, db_times, statements))
                    console.print(
                        f"  {who:5} {page.name:38} p50 {percentile(times, 50):6.1f} ms  "
                        f"p95 {percentile(times, 95):6.1f} ms  ({len(times)} runs)"
                    )
        return results
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
    console.print(f"load before: {os.getloadavg()}")
    with contextlib.ExitStack() as stack:
        console.print(f"Starting a private PostgreSQL server ({PG_SETTINGS})")
        server = stack.enter_context(postgres_server(settings=PG_SETTINGS))
        url = server.create_database("bandeja_bench_ui")
        results = asyncio.run(run(url, plan, repeat, budget, show_sql))
    table = Table(title=f"UI server time, PostgreSQL, {conversations:,} conversations")
    for column in (
        "actor",
        "page",
        "runs",
        "p50 ms",
        "p95 ms",
        "max ms",
        "SQL statements",
        "SQL p50 ms",
        "KB",
        f"p95 <= {TARGET_P95_MS:g}",
    ):
        table.add_column(column, justify="left" if column in ("actor", "page") else "right")
    for who, name, times, size, db_times, statements in results:
        p95 = percentile(times, 95)
        table.add_row(
            who,
            name,
            str(len(times)),
            f"{percentile(times, 50):.1f}",
            f"{p95:.1f}",
            f"{times[-1]:.1f}",
            str(statements),
            f"{percentile(db_times, 50):.1f}",
            f"{size / 1024:.0f}",
            "yes" if p95 <= TARGET_P95_MS else "NO",
        )
    console.print(table)
    console.print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    app()
