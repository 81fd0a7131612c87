"""Fan-out benchmark: 1,000 connected browsers of one workspace, time from an action to the last
of them receiving its event.

    flock /tmp/bandeja-bench.lock .venv/bin/python -m bench.fanout               # 1,000 clients
    flock /tmp/bandeja-bench.lock .venv/bin/python -m bench.fanout --clients 200 --rounds 10

Three servers are measured in one run, each on its own loopback port, with the same clients:

1. ``baseline``: a bare ASGI app under the same uvicorn (``bench/fanout_baseline.py``): a POST
   puts one pre-encoded SSE frame into every connected stream's queue. Nothing is cheaper to
   serve over HTTP in Python; it is the floor Bandeja is compared with.
2. ``bandeja x1``: one ``bandeja serve`` (in-process broker) over a private PostgreSQL.
3. ``bandeja x2 redis``: two ``bandeja serve`` processes over the same PostgreSQL and a private
   Redis; half the clients on each, every action sent to the first.

The clients are raw asyncio connections in this process (uvloop), authenticated with an API token
of the workspace's owner (the hub still checks every event's audience for every client). An
action is a real API call (a priority change: a transaction, an activity row, a domain event);
its time runs from just before the request is written until the last client has read the event.
Per server: ``--warmup`` untimed rounds, then ``--rounds`` rounds, each waiting for every client.
It prints, per server, the p50/p99/max of "the last client" per round, the p50/p99 over every
single delivery, and the load average around the run (the machine has 2 cores; the clients share
them with the servers). It asserts nothing about speed. Target: p99 <= 100 ms for 1,000 clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvloop
from rich.console import Console
from rich.table import Table

console = Console(width=140)
TIMEOUT_S = 15.0


@dataclass
class Round:
    clients: int
    t0: float = 0.0
    arrived: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def hit(self) -> None:
        self.arrived.append(time.perf_counter())
        if len(self.arrived) >= self.clients:
            self.done.set()


@dataclass
class Target:
    name: str
    stream_urls: list[str]  # clients are spread over these, round-robin
    headers: dict[str, str]
    marker: bytes
    action: Callable[[httpx.AsyncClient, int], Any]  # (client, round number) -> request


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


async def _connect(url: str, headers: dict[str, str]) -> tuple[asyncio.StreamReader, Any]:
    parsed = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()] + ["Accept: text/event-stream", "", ""]
    writer.write("\r\n".join(lines).encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"stream refused: {head[:200]!r}")
    return reader, writer


async def _pump(reader: asyncio.StreamReader, marker: bytes, current: list[Round]) -> None:
    tail = b""
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return
        # The marker may straddle two reads (chunked encoding splits where it likes).
        window = tail + chunk
        count = window.count(marker)
        tail = window[-len(marker) :]
        for _ in range(count):
            current[0].hit()


async def measure(target: Target, clients: int, rounds: int, warmup: int) -> dict[str, Any]:
    current = [Round(clients)]
    writers: list[Any] = []
    pumps: list[asyncio.Task[None]] = []
    connected = 0
    # Connect in batches: a thousand simultaneous handshakes would measure the accept queue.
    while connected < clients:
        batch = min(100, clients - connected)
        results = await asyncio.gather(
            *(
                _connect(target.stream_urls[(connected + i) % len(target.stream_urls)],
                         target.headers)
                for i in range(batch)
            )
        )  # fmt: skip
        for reader, writer in results:
            writers.append(writer)
            pumps.append(asyncio.create_task(_pump(reader, target.marker, current)))
        connected += batch
    await asyncio.sleep(1.0)  # let every stream register before the first action
    lasts: list[float] = []
    deliveries: list[float] = []
    actions: list[float] = []  # when the action's own HTTP answer came back
    missing = 0
    load_before = os.getloadavg()[0]
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        for n in range(warmup + rounds):
            current[0] = Round(clients)
            current[0].t0 = time.perf_counter()
            response = await target.action(http, n)
            answered = (time.perf_counter() - current[0].t0) * 1000
            if response.status_code >= 300:
                raise RuntimeError(f"{target.name}: action failed: {response.text[:300]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(current[0].done.wait(), TIMEOUT_S)
            got = current[0]
            if n >= warmup:
                missing += clients - len(got.arrived)
                times = [(t - got.t0) * 1000 for t in got.arrived]
                if times:
                    lasts.append(max(times))
                    deliveries.extend(times)
                    actions.append(answered)
            await asyncio.sleep(0.2)
    load_after = os.getloadavg()[0]
    for task in pumps:
        task.cancel()
    for writer in writers:
        writer.close()
    await asyncio.gather(*pumps, return_exceptions=True)
    return {
        "name": target.name,
        "last_p50": nearest_rank(lasts, 0.5),
        "last_p99": nearest_rank(lasts, 0.99),
        "last_max": max(lasts),
        "each_p50": nearest_rank(deliveries, 0.5),
        "each_p99": nearest_rank(deliveries, 0.99),
        "missing": missing,
        "slowest": sorted(zip(lasts, actions, strict=True))[-5:],
        "load": (load_before, load_after),
    }


# --- servers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def baseline_server(workdir: Path) -> Iterator[str]:
    from tests.support.processes import free_port

    port = free_port()
    log = (workdir / "baseline.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.fanout_baseline:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log",
         "--timeout-graceful-shutdown", "1"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the baseline server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def seed(database_url: str) -> dict[str, Any]:
    """A workspace, its owner's API token, one channel account and one conversation."""
    from tests.support.factory import Factory

    from bandeja.core.models import metadata  # noqa: F401  (every table known)
    from bandeja.core.users.models import Role
    from bandeja.storage.engine import create_engine, session_factory
    from bandeja.storage.migrate import upgrade

    engine = create_engine(database_url)
    await upgrade(engine)
    async with session_factory(engine)() as db:
        f = Factory(db)
        ws = await f.workspace()
        owner, _ = await f.user(ws, Role.owner)
        channel = await f.channel(ws)
        conversation, _ = await f.message(channel, person="p1", text="hola")
        token = await f.token(ws, owner)
        await db.commit()
    await engine.dispose()
    return {"token": token, "conversation": conversation.id}


def _priority_action(
    base: str, headers: dict[str, str], conversation_id: int
) -> Callable[..., Any]:
    def action(http: httpx.AsyncClient, n: int) -> Any:
        return http.post(
            f"{base}/api/v1/conversations/{conversation_id}/priority",
            json={"priority": "high" if n % 2 else "low"},
            headers=headers,
        )

    return action


@contextlib.asynccontextmanager
async def bandeja_targets(workdir: Path) -> AsyncIterator[tuple[Any, Any]]:
    from tests.support.factory import SECRET_KEY
    from tests.support.postgres import postgres_server
    from tests.support.redis import redis_server

    with postgres_server() as pg, redis_server() as redis:
        url = pg.create_database("bandeja_fanout")
        world = await seed(url)
        headers = {"Authorization": f"Bearer {world['token']}"}
        env = {
            "BANDEJA_ENV": "test",
            "BANDEJA_DATABASE_URL": url,
            "BANDEJA_SECRET_KEY": SECRET_KEY,
            "BANDEJA_DATA_DIR": str(workdir),
        }

        def targets(urls: list[str], name: str) -> Target:
            return Target(
                name=name,
                stream_urls=[f"{u}/api/v1/events/stream" for u in urls],
                headers=headers,
                marker=b'"conversation.changed"',
                action=_priority_action(urls[0], headers, world["conversation"]),
            )

        yield targets, (env, redis.url())


async def run(clients: int, rounds: int, warmup: int, servers: set[str]) -> list[dict[str, Any]]:
    from tests.support.processes import bandeja_processes

    results = []
    with tempfile.TemporaryDirectory(prefix="bandeja-fanout-") as tmp:
        workdir = Path(tmp)
        if "baseline" in servers:
            with baseline_server(workdir) as base:
                target = Target(
                    name="baseline (bare ASGI SSE)",
                    stream_urls=[f"{base}/stream"],
                    headers={},
                    marker=b'"fire"',
                    action=lambda http, n: http.post(f"{base}/fire"),
                )
                results.append(await measure(target, clients, rounds, warmup))
        async with bandeja_targets(workdir) as (make, (env, redis_url)):
            if "x1" in servers:
                one = workdir / "one"
                one.mkdir()
                with bandeja_processes(env, one, web=1, workers=0) as procs:
                    target = make([p.url for p in procs], "bandeja x1 (in-process)")
                    results.append(await measure(target, clients, rounds, warmup))
            if "x2" in servers:
                two = workdir / "two"
                two.mkdir()
                env2 = {**env, "BANDEJA_REDIS_URL": redis_url}
                with bandeja_processes(env2, two, web=2, workers=0) as procs:
                    target = make([p.url for p in procs], "bandeja x2 (Redis)")
                    results.append(await measure(target, clients, rounds, warmup))
    return results


def main(
    clients: Annotated[int, typer.Option(help="Connected clients.", min=1, max=5000)] = 1000,
    rounds: Annotated[int, typer.Option(help="Timed actions per server.", min=1, max=500)] = 30,
    warmup: Annotated[int, typer.Option(help="Untimed actions first.", min=0, max=50)] = 3,
    servers: Annotated[
        str, typer.Option(help="Which to measure: baseline, x1 (one process), x2 (Redis).")
    ] = "baseline,x1,x2",
) -> None:
    chosen = {s.strip() for s in servers.split(",") if s.strip()}
    if not chosen or chosen - {"baseline", "x1", "x2"}:
        raise typer.BadParameter("--servers takes baseline, x1 and x2")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * clients + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        results = runner.run(run(clients, rounds, warmup, chosen))
    table = Table(title=f"{clients} SSE clients, one workspace; ms from the action (n={rounds})")
    for column in ("server", "last p50", "last p99", "last max", "each p50", "each p99",
                   "missed", "load 1m"):  # fmt: skip
        table.add_column(column, justify="right" if column != "server" else "left")
    for r in results:
        table.add_row(
            r["name"],
            f"{r['last_p50']:.1f}",
            f"{r['last_p99']:.1f}",
            f"{r['last_max']:.1f}",
            f"{r['each_p50']:.1f}",
            f"{r['each_p99']:.1f}",
            str(r["missing"]),
            f"{r['load'][0]:.2f}->{r['load'][1]:.2f}",
        )
    console.print(table)
    for r in results:
        slowest = ", ".join(f"{last:.0f} ({answer:.0f})" for last, answer in r["slowest"])
        console.print(f"{r['name']}: slowest (its API answer), ms: {slowest}")
    console.print(
        "last = when the last client had the event (per action); each = every delivery. "
        f"Target: last p99 <= 100 ms. cores: {os.cpu_count()}"
    )


if __name__ == "__main__":
    typer.run(main)
