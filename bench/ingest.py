"""Ingest benchmark: signed webhooks at a running Bandeja on PostgreSQL, against a bare baseline.

    .venv/bin/python -m bench.ingest                       # the full run (about 15 minutes)
    .venv/bin/python -m bench.ingest --seconds 5 --repeat 1 --events 40000   # quicker

It starts a private PostgreSQL server, migrates it with ``bandeja db upgrade``, connects WhatsApp
and Messenger channel accounts with ``bandeja channels add``, and runs Bandeja as real processes
in two topologies (``--topology``): ``bandeja+worker``, the production one (``bandeja serve``
with ``BANDEJA_WORKERS_IN_PROCESS=false`` and a ``bandeja worker`` process, docs/deploy.md), and
``bandeja``, one ``bandeja serve`` that also runs the workers (the default of a small install).
The requests are what the platforms send: bodies and signatures built by the platforms' sandbox
fakes (``channels/<platform>/fake.py``) from simulated customers writing in English, Spanish and
Italian (DMs, comments, reactions, edits), with 20 % exact duplicates (the same body re-sent a
little later, as Meta's at-least-once delivery does).

It measures, each ``--repeat`` times (the machine is shared and small: look at both figures):

1. acknowledgement latency at a fixed rate (``--rate``, open loop: a request's latency runs from
   the time the timetable says it is sent, so queueing in the server counts);
2. acknowledged events/s at saturation (``wrk``, closed loop, ``--connections``), and in the same
   run the processed deliveries/s and messages/s (until the ingest worker has drained them);
3. the same two for a bare baseline on the same machine: a raw ASGI callable under the same
   uvicorn (one process) that checks the signature, parses the JSON and inserts the raw body with
   one idempotent INSERT per request. Bandeja's throughput is printed as a ratio to it.

It prints figures and the targets; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import os
import platform as host_platform
import random
import resource
import secrets
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
import httpx
import typer
import uvloop
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
# Wide enough for the tables when the output goes to a file (rich assumes 80 columns).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)

# --------------------------------------------------------------------------------------------
# Targets and the shape of the traffic
# --------------------------------------------------------------------------------------------

TARGET_RATE = 1_000  # events/s at which the acknowledgement p99 is judged
# How Bandeja runs (--topology), and the name its figures are printed under.
TOPOLOGIES = {"worker": "bandeja+worker", "in-process": "bandeja"}
ACK_P99_TARGET_MS = 50.0
RATIO_TARGET = 0.5  # Bandeja's acknowledged events/s over the bare baseline's
DUPLICATE_SHARE = 0.2
# A duplicate follows its original by up to this many requests (about 2 s at 1,000/s): close
# enough that some arrive while the original is still in flight, as Meta's re-sends do.
DUPLICATE_SPREAD = 2_000
# Two accounts per platform: the webhook path looks up each account (channel cache).
CHANNELS = (
    ("whatsapp", "Acme WhatsApp ES", "106540352242922"),
    ("whatsapp", "Acme WhatsApp IT", "106540352242923"),
    ("messenger", "Acme Page", "100087345612001"),
    ("messenger", "Acme Outlet Page", "100087345612002"),
)
# Nothing a benchmark does may reach a real platform: the accounts have no access token (so the
# Messenger profile lookup is skipped) and their API base URL is the discard port of this host.
NOWHERE = "http://127.0.0.1:9"

# A private server sized for the reference machine (2 cores, 24 GiB RAM, SSD-backed VM), as in
# bench/inbox_queries.py. tests/support/postgres.py turns fsync and synchronous_commit off
# (throw-away data); --durable turns them back on for both Bandeja and the baseline.
PG_SETTINGS = {
    "shared_buffers": "2GB",
    "effective_cache_size": "16GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
}
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}

# Every wait on another process is bounded.
READY_TIMEOUT_S = 60.0
CLI_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 10.0
POLL_S = 0.2


# --------------------------------------------------------------------------------------------
# The requests: what WhatsApp and Messenger send, signed
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: int
    platform: str
    name: str
    external_id: str
    secret: str

    @property
    def path(self) -> str:
        return f"/webhooks/{self.platform}/{self.id}"


class Workload:
    """Raw HTTP/1.1 requests, pre-formatted so that sending one costs the client nothing.

    Every call to ``take`` returns deliveries never handed out before (message ids come from the
    sandbox state's counter), so each measured run stores new rows and gives the worker new
    messages to apply: re-sending an earlier run's bodies would only measure the dedupe path.
    """

    def __init__(self, accounts: Sequence[Account], *, senders: int, seed: int) -> None:
        from bandeja.channels.sandbox.app import fakes
        from bandeja.channels.sandbox.contract import SandboxChannel
        from bandeja.channels.sandbox.state import SandboxState
        from bandeja.channels.sandbox.traffic import Traffic
        from bandeja.core.channels.models import Platform

        self.rng = random.Random(seed)
        self.fakes = fakes()
        missing = {a.platform for a in accounts} - {p.value for p in self.fakes}
        if missing:
            raise RuntimeError(f"no sandbox fake for {', '.join(sorted(missing))}")
        self.channels = [
            SandboxChannel(
                bandeja_id=a.id,
                platform=Platform(a.platform),
                external_id=a.external_id,
                name=a.name,
                secrets={"signing_secret": a.secret},
                webhook_url=f"http://127.0.0.1{a.path}",
            )
            for a in accounts
        ]
        # ``senders`` people per account: a realistic spread of contacts and conversations (the
        # sandbox's default of 12 would make every delivery hit the same few conversations).
        self.traffic = Traffic(SandboxState(), self.rng, people_per_channel=senders)
        self.clock = datetime.now(UTC)

    def _unique(self) -> bytes:
        while True:
            channel = self.rng.choice(self.channels)
            self.clock += timedelta(milliseconds=1)
            event = self.traffic.next_event(channel, self.clock)
            deliveries = self.fakes[channel.platform].deliveries(channel, event)
            if deliveries:  # a platform sends nothing for some events (e.g. WhatsApp comments)
                delivery = deliveries[0]
                return _http_request(urlsplit(delivery.url).path, delivery.headers, delivery.body)

    def take(self, n: int) -> list[bytes]:
        """``n`` requests, of which ``DUPLICATE_SHARE`` are exact re-sends of earlier ones."""
        duplicates = round(n * DUPLICATE_SHARE)
        originals = [self._unique() for _ in range(n - duplicates)]
        keyed = [(float(i), raw) for i, raw in enumerate(originals)]
        for _ in range(duplicates):
            i = self.rng.randrange(len(originals))
            keyed.append((i + self.rng.uniform(0.5, DUPLICATE_SPREAD), originals[i]))
        keyed.sort(key=lambda pair: pair[0])
        return [raw for _, raw in keyed]


def _http_request(path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def body_sizes(requests: Sequence[bytes]) -> tuple[int, int]:
    sizes = [len(r) - r.index(b"\r\n\r\n") - 4 for r in requests]
    return round(statistics.fmean(sizes)), max(sizes)


# --------------------------------------------------------------------------------------------
# The bare baseline: the least any webhook receiver on PostgreSQL does
# --------------------------------------------------------------------------------------------

BARE_TABLE = "bench_bare_events"
BARE_DDL = f"""
CREATE TABLE IF NOT EXISTS {BARE_TABLE} (
    id bigserial PRIMARY KEY,
    channel_id bigint NOT NULL,
    dedupe_key text NOT NULL,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, dedupe_key)
)
"""
BARE_INSERT = (
    f"INSERT INTO {BARE_TABLE} (channel_id, dedupe_key, body) VALUES ($1, $2, $3) "
    "ON CONFLICT (channel_id, dedupe_key) DO NOTHING"
)
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BareApp:
    """A raw ASGI callable: signature (X-Hub-Signature-256), JSON parse, one idempotent insert in
    autocommit on a pooled connection, 200. No framework, no ORM, no logging."""

    def __init__(self, dsn: str, secrets: dict[int, str], pool_size: int) -> None:
        self.dsn = dsn
        self.secrets = {channel: secret.encode() for channel, secret in secrets.items()}
        self.pool_size = pool_size
        self.pool: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(
                    self.dsn, min_size=self.pool_size, max_size=self.pool_size
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":  # readiness probe
            await _answer(send, 200, b"ready")
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            channel = int(scope["path"].rsplit("/", 1)[1])
            secret = self.secrets[channel]
        except (ValueError, KeyError):
            await _answer(send, 404, b"unknown webhook")
            return
        given = dict(scope["headers"]).get(b"x-hub-signature-256", b"")
        expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(given, expected):
            await _answer(send, 401, b"bad signature")
            return
        try:
            json.loads(body)
        except ValueError:
            await _answer(send, 400, b"not json")
            return
        await self.pool.execute(BARE_INSERT, channel, hashlib.sha256(body).hexdigest(), body)
        await _answer(send, 200, b"ok")


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def bare_app() -> BareApp:
    """uvicorn's ``--factory`` entry point; settings come from the environment."""
    secrets = {int(k): v for k, v in json.loads(os.environ["BENCH_BARE_SECRETS"]).items()}
    return BareApp(os.environ["BENCH_BARE_DSN"], secrets, int(os.environ["BENCH_BARE_POOL"]))


# --------------------------------------------------------------------------------------------
# Processes: PostgreSQL, the bandeja CLI, the servers, and what CPU they use
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()  # fields from "state" on (the name may hold spaces)


def cpu_seconds(pids: Sequence[int], *, reaped: bool = False) -> float:
    """CPU seconds used by ``pids``; with ``reaped``, plus what their exited children used (a
    PostgreSQL backend that ends hands its time to the postmaster, so the sum never drops)."""
    total = 0.0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime + stime
            if reaped:
                total += int(fields[13]) + int(fields[14])  # cutime + cstime
    return total / _TICK


def with_children(pid: int) -> list[int]:
    """``pid`` and its direct children (PostgreSQL: the postmaster and its backends)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [self.process.pid] + [h.pid for h in self.helpers]

    def stop(self) -> None:
        for process in [self.process, *self.helpers]:
            if process.poll() is None:
                process.terminate()
        for process in [self.process, *self.helpers]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # The output goes to a file, never to a pipe nobody reads: uvicorn's access log would fill a
    # pipe in a second and block the server.
    with log.open("ab") as out:
        return subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = f"http://127.0.0.1:{server.port}{path}"
    while time.monotonic() < deadline:
        for process in [server.process, *server.helpers]:
            if process.poll() is not None:
                raise RuntimeError(f"{server.name} exited:\n{server.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {READY_TIMEOUT_S:.0f} s:\n{server.tail()}")


def bandeja(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bandeja", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bandeja {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


# --------------------------------------------------------------------------------------------
# Load generators
# --------------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    # p * n / 100, not p / 100 * n: 0.99 * 10000 is 9900.000000000002 and would round up.
    rank = max(1, min(len(sorted_values), math.ceil(p * len(sorted_values) / 100)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds used so far by each party of a run, and the wall clock."""

    wall: float
    web: float  # the web server process (with Bandeja's in-process workers, those too)
    worker: float  # a separate `bandeja worker` process, if any
    postgres: float | None  # None: a server of yours (--pg-url), not measured
    client: float  # this process (the fixed-rate client) and exited children (wrk)


@dataclass
class Cpu:
    """CPU used during a run, in cores (1.0 = one core busy the whole run); on a shared machine
    the CPU per acknowledged request is steadier than requests/s."""

    web: float
    worker: float
    postgres: float | None
    load_generator: float
    web_seconds: float

    def ms_per_request(self, requests: int) -> float:
        return 1000 * self.web_seconds / requests if requests else float("nan")


@dataclass
class FixedRateResult:
    target_rate: float
    sent: int
    ok: int
    errors: int
    achieved_rate: float  # requests dispatched per second of timetable actually taken
    dispatch_lag_p99_ms: float  # how late the generator itself started requests
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu: Cpu | None = None


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, raw: bytes) -> tuple[int, bool]:
        """Send one request, read its response; returns (status, server closes)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise ValueError("chunked responses are not expected here")
        if length:
            await self.reader.readexactly(length)
        return status, close

    def close(self) -> None:
        self.writer.close()


async def fixed_rate(
    port: int, requests: Sequence[bytes], rate: float, *, max_connections: int = 512
) -> FixedRateResult:
    """Open loop: request i is due at start + i/rate whatever happened to earlier ones, and its
    latency runs from that due time to the end of its response (queueing counts, coordinated
    omission does not hide it). Raw asyncio streams on uvloop: httpx costs several times more
    CPU per request, CPU this 2-core machine needs for the server. Times come from
    perf_counter: uvloop's loop.time() counts whole milliseconds."""
    clock = time.perf_counter

    async def connect() -> _Connection:
        return _Connection(*await asyncio.open_connection("127.0.0.1", port))

    idle = [await connect() for _ in range(32)]  # a platform keeps connections open too
    slots = asyncio.Semaphore(max_connections)
    latencies: list[float] = []
    lags: list[float] = []
    errors = 0

    async def exchange(raw: bytes) -> tuple[_Connection, int, bool]:
        if idle:
            connection = idle.pop()
            try:
                return (connection, *await connection.exchange(raw))
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                connection.close()
                # uvicorn closes a keep-alive connection idle for 5 s; a client that picks one up
                # just then sees it closed before any answer, and sends again on a new one (as
                # HTTP clients do). Any other failure is the server's.
                if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                    raise
            except BaseException:  # a timeout cancels it mid-exchange: the stream is unusable
                connection.close()
                raise
        connection = await connect()
        try:
            return (connection, *await connection.exchange(raw))
        except BaseException:
            connection.close()
            raise

    async def one(i: int, due: float) -> None:
        nonlocal errors
        lags.append(clock() - due)
        async with slots:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    connection, status, close = await exchange(requests[i])
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                return
            if status == 200:
                latencies.append(clock() - due)
            else:
                errors += 1
            if close:
                connection.close()
            else:
                idle.append(connection)

    tasks = []
    start = clock() + 0.05
    deadline = start + 2 * len(requests) / rate + 5  # a generator this late has lost anyway
    for i in range(len(requests)):
        due = start + i / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        elif clock() > deadline:
            break
        tasks.append(asyncio.create_task(one(i, due)))
    dispatched = clock() - start
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 5)
        for task in pending:
            task.cancel()
        errors += len(pending)
    for connection in idle:
        connection.close()
    ok = len(latencies)
    # A request never acknowledged (timeout, error) has no finite acknowledgement latency: left
    # out, it would flatter the percentiles of exactly the runs that went wrong.
    latencies += [math.inf] * errors
    latencies.sort()
    lags.sort()
    ms = 1000.0
    return FixedRateResult(
        target_rate=rate,
        sent=len(tasks),
        ok=ok,
        errors=errors,
        achieved_rate=len(tasks) / max(dispatched, 1e-9),
        dispatch_lag_p99_ms=percentile(lags, 99) * ms,
        p50_ms=percentile(latencies, 50) * ms,
        p95_ms=percentile(latencies, 95) * ms,
        p99_ms=percentile(latencies, 99) * ms,
        max_ms=(latencies[-1] if latencies else float("nan")) * ms,
    )


# wrk runs one Lua state per thread: each thread loads every THREADS-th request of the file, and
# `request()` hands them out in order, so the duplicates keep their place behind their originals.
WRK_SCRIPT = string.Template(
    r"""
local FILE, THREADS = "$file", $threads
local created = 0
function setup(thread)
  thread:set("tid", created)
  created = created + 1
end

local requests, i = {}, 0
function init(args)
  local f = assert(io.open(FILE, "rb"))
  local data = f:read("*a")
  f:close()
  local pos, k = 1, 0
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    if k % THREADS == tid then
      requests[#requests + 1] = string.sub(data, nl + 1, nl + len)
    end
    pos, k = nl + 1 + len, k + 1
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""
)


@dataclass
class ThroughputResult:
    requests: int
    ok: int
    errors: int
    seconds: float
    events_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    wrapped: bool  # wrk went past the end of the requests (more duplicates than planned)
    cpu: Cpu | None = None


def write_requests(path: Path, requests: Sequence[bytes]) -> None:
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)


async def run_wrk(
    port: int,
    requests_file: Path,
    available: int,
    *,
    seconds: float,
    connections: int,
    threads: int,
    workdir: Path,
) -> ThroughputResult:
    script = workdir / "ingest.lua"
    script.write_text(WRK_SCRIPT.substitute(file=requests_file, threads=threads))
    process = await asyncio.create_subprocess_exec(
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={REQUEST_TIMEOUT_S:g}s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # Loading the file into Lua takes a few seconds before the timed part starts.
        out, _ = await asyncio.wait_for(process.communicate(), seconds + 120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    text = out.decode(errors="replace")
    marker = next((ln for ln in text.splitlines() if ln.startswith("BENCH-WRK ")), None)
    if process.returncode != 0 or marker is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}")
    data = json.loads(marker.removeprefix("BENCH-WRK "))
    errors = sum(int(data[k]) for k in ("connect", "read", "write", "status", "timeout"))
    duration = data["duration_us"] / 1e6
    ok = int(data["requests"]) - int(data["status"])  # wrk counts non-2xx/3xx under "status"
    return ThroughputResult(
        requests=int(data["requests"]),
        ok=ok,
        errors=errors,
        seconds=duration,
        events_per_s=ok / duration,
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
        wrapped=int(data["requests"]) > available,
    )


# --------------------------------------------------------------------------------------------
# Processing: the ingest worker drains what the webhooks stored
# --------------------------------------------------------------------------------------------


@dataclass
class Processing:
    stored: int  # new raw events (the acknowledged requests minus the duplicates)
    processed: int
    failed: int
    deferred: int  # waiting for a message they are about (retried later by the worker)
    messages: int
    seconds: float  # from the first delivery received to the last one processed
    backlog_at_end_of_load: int
    drained: bool

    @property
    def deliveries_per_s(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else float("nan")

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("nan")


class Monitor:
    """Reads Bandeja's tables from outside: what was stored, processed and created."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        # A delivery about a message not stored yet (a reaction that overtook its message) stays
        # pending with a later retry_at: the worker has nothing to do with it until then, so it
        # is not backlog. Older schemas have no retry_at.
        self.due = "status = 'pending'"

    async def start(self) -> None:
        has_retry_at = await self.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
            " WHERE table_name = 'raw_events' AND column_name = 'retry_at')"
        )
        if has_retry_at:
            self.due = "status = 'pending' AND (retry_at IS NULL OR retry_at <= now())"

    async def mark(self) -> tuple[int, int]:
        raw = await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM raw_events")
        messages = await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM messages")
        return int(raw), int(messages)

    async def pending(self, after: int = 0) -> int:
        """Deliveries (stored after id ``after``) the worker could process now. Served by
        ix_raw_events_status (status, id): cheap even with the table growing."""
        return int(
            await self.conn.fetchval(
                f"SELECT count(*) FROM raw_events WHERE {self.due} AND id > $1", after
            )
        )

    async def wait_drained(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self.pending() == 0:
                return True
            await asyncio.sleep(POLL_S)
        return False

    async def since(self, mark: tuple[int, int], backlog: int, drained: bool) -> Processing:
        """What happened to the deliveries stored after ``mark``: the clock runs from the first
        one received to the last one processed (both written by Bandeja, with one clock)."""
        row = await self.conn.fetchrow(
            "SELECT count(*) AS stored,"
            " count(*) FILTER (WHERE status = 'processed') AS processed,"
            " count(*) FILTER (WHERE status = 'failed') AS failed,"
            " count(*) FILTER (WHERE status = 'pending') AS deferred,"
            " min(received_at) AS first, max(processed_at) AS last"
            " FROM raw_events WHERE id > $1",
            mark[0],
        )
        messages = await self.conn.fetchval("SELECT count(*) FROM messages WHERE id > $1", mark[1])
        first: datetime | None = row["first"]
        last: datetime | None = row["last"]
        seconds = last.timestamp() - first.timestamp() if first and last else float("nan")
        return Processing(
            stored=int(row["stored"]),
            processed=int(row["processed"]),
            failed=int(row["failed"]),
            deferred=int(row["deferred"]),
            messages=int(messages),
            seconds=seconds,
            backlog_at_end_of_load=backlog,
            drained=drained,
        )

    async def failed_total(self) -> tuple[int, str | None]:
        n = await self.conn.fetchval("SELECT count(*) FROM raw_events WHERE status = 'failed'")
        sample = await self.conn.fetchval(
            "SELECT error FROM raw_events WHERE status = 'failed' ORDER BY id LIMIT 1"
        )
        return int(n), sample


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Options:
    rate: float
    seconds: float
    connections: int
    events: int
    pg_url: str | None
    skip_baseline: bool
    repeat: int
    topologies: list[str]  # TOPOLOGIES keys, in the order they run
    wrk_threads: int
    senders: int
    durable: bool
    drain_timeout: float
    seed: int


@dataclass
class Results:
    facts: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, list[FixedRateResult]] = field(default_factory=dict)
    fixed_processing: dict[str, list[Processing]] = field(default_factory=dict)
    throughput: dict[str, list[ThroughputResult]] = field(default_factory=dict)
    # Each Bandeja throughput run with the bare run measured just before it, on the same requests.
    pairs: dict[str, list[tuple[ThroughputResult, ThroughputResult]]] = field(default_factory=dict)
    processing: dict[str, list[Processing]] = field(default_factory=dict)
    failed: tuple[int, str | None] = (0, None)
    notes: list[str] = field(default_factory=list)


@dataclass
class Bench:
    opts: Options
    workdir: Path
    dsn: str  # plain postgresql:// (asyncpg)
    env: dict[str, str]
    accounts: list[Account]
    workload: Workload
    monitor: Monitor
    postgres_pid: int | None
    results: Results = field(default_factory=Results)

    # --- servers -------------------------------------------------------------------------------

    def start_bandeja(self, topology: str) -> Server:
        separate_worker = topology == "worker"
        port = free_port()
        name = TOPOLOGIES[topology]
        env = {**self.env, "BANDEJA_PORT": str(port)}
        if separate_worker:
            env["BANDEJA_WORKERS_IN_PROCESS"] = "false"
        log = self.workdir / f"{name}.log"
        cmd = [sys.executable, "-m", "bandeja", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = Server(name, port, spawn(cmd, env, log), log)
        if separate_worker:
            server.helpers.append(spawn([sys.executable, "-m", "bandeja", "worker"], env, log))
        wait_ready(server, "/readyz")
        return server

    def start_bare(self) -> Server:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "BENCH_BARE_DSN": self.dsn,
            "BENCH_BARE_SECRETS": json.dumps({str(a.id): a.secret for a in self.accounts}),
            # Bandeja's pool: database_pool_size (10) plus as many overflow connections.
            "BENCH_BARE_POOL": "20",
        }
        # The same uvicorn as `bandeja serve` (one process, uvloop, httptools), minus the access
        # log: the baseline is the floor, and the log is one of the costs being compared.
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.ingest:bare_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        log = self.workdir / "bare.log"
        server = Server("bare", port, spawn(cmd, env, log), log)
        wait_ready(server, "/")
        return server

    # --- measurements -----------------------------------------------------------------------------

    def _cpu_now(self, server: Server) -> CpuClock:
        pg = None
        if self.postgres_pid:
            backends = with_children(self.postgres_pid)[1:]
            pg = cpu_seconds([self.postgres_pid], reaped=True) + cpu_seconds(backends)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return CpuClock(
            wall=time.monotonic(),
            web=cpu_seconds([server.process.pid]),
            worker=cpu_seconds([h.pid for h in server.helpers]),
            postgres=pg,
            client=time.process_time() + children.ru_utime + children.ru_stime,
        )

    def _cpu_since(self, server: Server, before: CpuClock, wall: float | None = None) -> Cpu:
        after = self._cpu_now(server)
        wall = wall or after.wall - before.wall
        pg = None
        if after.postgres is not None and before.postgres is not None:
            pg = (after.postgres - before.postgres) / wall
        return Cpu(
            web=(after.web - before.web) / wall,
            worker=(after.worker - before.worker) / wall,
            postgres=pg,
            load_generator=(after.client - before.client) / wall,
            web_seconds=after.web - before.web,
        )

    async def settle(self, server: Server) -> None:
        """Start each run from an idle server: nothing left for the ingest worker."""
        if server.name.startswith("bandeja") and not await self.monitor.wait_drained(
            self.opts.drain_timeout
        ):
            self.results.notes.append(f"{server.name}: backlog not drained before a run")
        if server.name == "bare":
            async with asyncpg_connect(self.dsn) as conn:
                await conn.execute(f"TRUNCATE {BARE_TABLE}")
                await conn.execute(f"VACUUM ANALYZE {BARE_TABLE}")

    async def warm_up(self, server: Server) -> None:
        # Imports, the channel cache, the connection pool and prepared statements: none of it is
        # what a benchmark of a long-running server should time.
        requests = self.workload.take(2_000)
        await fixed_rate(server.port, requests, rate=1_000)
        await self.settle(server)

    async def measure_fixed(self, server: Server) -> None:
        requests = self.workload.take(round(self.opts.rate * self.opts.seconds))
        await self.settle(server)
        mark = await self.monitor.mark() if server.name != "bare" else (0, 0)
        cpu = self._cpu_now(server)
        result = await fixed_rate(server.port, requests, self.opts.rate)
        result.cpu = self._cpu_since(server, cpu)
        self.results.fixed.setdefault(server.name, []).append(result)
        if server.name != "bare":
            backlog = await self.monitor.pending(after=mark[0])
            drained = await self.monitor.wait_drained(self.opts.drain_timeout)
            processing = await self.monitor.since(mark, backlog, drained)
            self.results.fixed_processing.setdefault(server.name, []).append(processing)
        console.print(
            f"  {server.name:15} fixed {self.opts.rate:g}/s: p50 {_ms(result.p50_ms)} ms, "
            f"p99 {_ms(result.p99_ms)} ms, {result.errors} errors"
        )

    async def measure_throughput(
        self, server: Server, requests_file: Path, n: int
    ) -> ThroughputResult:
        await self.settle(server)
        mark = await self.monitor.mark() if server.name != "bare" else (0, 0)
        before_cpu = self._cpu_now(server)
        result = await run_wrk(
            server.port,
            requests_file,
            n,
            seconds=self.opts.seconds,
            connections=self.opts.connections,
            threads=self.opts.wrk_threads,
            workdir=self.workdir,
        )
        # Per second of wrk's timed part: the seconds it spends loading its requests beforehand
        # leave the server idle (so this slightly overstates wrk's own share).
        result.cpu = self._cpu_since(server, before_cpu, wall=result.seconds)
        self.results.throughput.setdefault(server.name, []).append(result)
        line = f"  {server.name:15} wrk: {result.events_per_s:,.0f} events/s"
        if server.name != "bare":
            backlog = await self.monitor.pending(after=mark[0])
            drained = await self.monitor.wait_drained(self.opts.drain_timeout)
            processing = await self.monitor.since(mark, backlog, drained)
            self.results.processing.setdefault(server.name, []).append(processing)
            line += (
                f", processed {processing.deliveries_per_s:,.0f} deliveries/s "
                f"({processing.messages_per_s:,.0f} messages/s)"
            )
        console.print(line)
        return result

    async def run(self) -> None:
        opts = self.opts
        bare = None if opts.skip_baseline else self.start_bare()
        try:
            if bare is not None:
                await self.warm_up(bare)
            for n, topology in enumerate(opts.topologies):
                server = self.start_bandeja(topology)
                try:
                    await self.warm_up(server)
                    console.print(f"[bold]fixed rate[/bold] ({server.name})")
                    for _ in range(opts.repeat):
                        await self.measure_fixed(server)
                        if bare is not None and n == 0:  # the reference, once per repeat
                            await self.measure_fixed(bare)
                    console.print(f"[bold]throughput[/bold] ({server.name})")
                    for _ in range(opts.repeat):
                        # The same requests for the bare run and Bandeja's run that follows it
                        # (the bare table is emptied before each of its runs).
                        requests = self.workload.take(opts.events)
                        requests_file = self.workdir / "requests.bin"
                        write_requests(requests_file, requests)
                        baseline = None
                        if bare is not None:
                            baseline = await self.measure_throughput(
                                bare, requests_file, len(requests)
                            )
                        own = await self.measure_throughput(server, requests_file, len(requests))
                        if baseline is not None:
                            self.results.pairs.setdefault(server.name, []).append((baseline, own))
                finally:
                    server.stop()
        finally:
            if bare is not None:
                bare.stop()
        self.results.failed = await self.monitor.failed_total()


@contextlib.asynccontextmanager
async def asyncpg_connect(dsn: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# Set-up: the database, the workspace and the channel accounts, through the CLI
# --------------------------------------------------------------------------------------------


def setup_bandeja(env: dict[str, str], slug: str) -> list[Account]:
    bandeja(env, "db", "upgrade")
    bandeja(env, "workspaces", "add", slug, "--name", "Ingest benchmark")
    accounts = []
    for platform, name, external_id in CHANNELS:
        secret = secrets.token_hex(16)
        out = bandeja(
            env,
            "channels",
            "add",
            platform,
            "--name",
            name,
            "--external-id",
            external_id,
            "--signing-secret",
            secret,
            "--api-base-url",
            NOWHERE,
            "--workspace",
            slug,
            "--json",
        )
        made = json.loads(out.strip().splitlines()[-1])
        accounts.append(Account(int(made["id"]), platform, name, external_id, secret))
    return accounts


def machine_facts(pg_version: str, opts: Options) -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cores": f"{os.cpu_count()} ({model})",
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": host_platform.release(),
        "python": host_platform.python_version(),
        "packages": ", ".join(
            f"{p} {version(p)}"
            for p in ("uvicorn", "uvloop", "httptools", "starlette", "fastapi", "sqlalchemy")
        )
        + f", asyncpg {version('asyncpg')}",
        "postgresql": pg_version.split(" on ")[0],
        "pg settings": "durable (fsync, synchronous_commit on)"
        if opts.durable
        else "fsync=off, synchronous_commit=off (throw-away data)",
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
        "load average at start": load,
    }


@contextlib.contextmanager
def postgres(opts: Options) -> Iterator[tuple[str, int | None]]:
    """(asyncpg DSN, postmaster pid or None) of a fresh database."""
    if opts.pg_url:
        parsed = urlsplit(opts.pg_url)
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise typer.BadParameter("--pg-url must point at this machine (127.0.0.1)")
        yield "postgresql://" + opts.pg_url.split("://", 1)[1], None
        return
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.support.postgres import postgres_server

    settings = {**PG_SETTINGS, **(DURABLE if opts.durable else {})}
    with postgres_server(settings=settings) as server:
        url = server.create_database("bench_ingest")
        pid_file = server.datadir / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        yield url.replace("postgresql+asyncpg://", "postgresql://"), pid


async def main_async(opts: Options, workdir: Path) -> Results:
    with postgres(opts) as (dsn, pg_pid):
        env = {
            **os.environ,
            "BANDEJA_DATABASE_URL": dsn,
            "BANDEJA_SECRET_KEY": secrets.token_urlsafe(48),
            "BANDEJA_DATA_DIR": str(workdir / "data"),
            "BANDEJA_ENV": "production",
        }
        slug = f"bench-ingest-{secrets.token_hex(3)}"
        console.print("setting up: bandeja db upgrade, workspaces add, channels add ...")
        accounts = setup_bandeja(env, slug)
        async with asyncpg_connect(dsn) as conn:
            await conn.execute(BARE_DDL)
            pg_version = await conn.fetchval("SELECT version()")
            console.print(f"generating requests ({opts.senders} senders per account) ...")
            workload = Workload(accounts, senders=opts.senders, seed=opts.seed)
            bench = Bench(opts, workdir, dsn, env, accounts, workload, Monitor(conn), pg_pid)
            await bench.monitor.start()
            bench.results.facts = machine_facts(pg_version, opts)
            sample = workload.take(2_000)
            mean, biggest = body_sizes(sample)
            bench.results.facts["bodies"] = (
                f"{mean} B mean, {biggest} B max; {DUPLICATE_SHARE:.0%} exact duplicates; "
                f"platforms {', '.join(sorted({a.platform for a in accounts}))}"
            )
            try:
                await bench.run()
            finally:
                await conn.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
            bench.results.facts["load average at end"] = " ".join(
                f"{x:.2f}" for x in os.getloadavg()
            )
            return bench.results


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"> {REQUEST_TIMEOUT_S * 1000:,.0f}" if math.isinf(value) else f"{value:.1f}"


def _pct(cores: float | None) -> str:
    return "n/a" if cores is None else f"{cores * 100:.0f}%"


def _mark(ok: bool) -> str:
    return "[green]OK[/green]" if ok else "[red]over[/red]"


def _runs(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    return " / ".join(fmt.format(v) for v in values)


def _table(title: str, columns: Sequence[str]) -> Table:
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def _cpu_cells(cpu: Cpu | None, requests: int) -> list[str]:
    if cpu is None:
        return ["", "", "", "", ""]
    return [
        _pct(cpu.web),
        _pct(cpu.worker) if cpu.worker else "",
        _pct(cpu.postgres),
        _pct(cpu.load_generator),
        f"{cpu.ms_per_request(requests):.2f}",
    ]


CPU_COLUMNS = ("CPU web", "CPU worker", "CPU pg", "CPU client", "web CPU ms/ack")


def report(results: Results, opts: Options) -> None:
    facts = Table(title="Machine", show_header=False)
    facts.add_column("")
    facts.add_column("")
    for key, value in results.facts.items():
        facts.add_row(key, value)
    console.print(facts)

    fixed = _table(
        f"Fixed rate, open loop: {opts.rate:g} events/s for {opts.seconds:g} s "
        "(latency from the scheduled send time)",
        ["server", "run", "sent", "errors", "achieved/s", "client lag p99", "p50 ms", "p95 ms",
         "p99 ms", "max ms", *CPU_COLUMNS],
    )  # fmt: skip
    for name, runs in results.fixed.items():
        for i, r in enumerate(runs, 1):
            fixed.add_row(
                name, str(i), f"{r.sent:,}", str(r.errors), f"{r.achieved_rate:,.0f}",
                f"{r.dispatch_lag_p99_ms:.1f} ms", _ms(r.p50_ms), _ms(r.p95_ms), _ms(r.p99_ms),
                _ms(r.max_ms), *_cpu_cells(r.cpu, r.ok),
            )  # fmt: skip
    console.print(fixed)

    tp = _table(
        f"Throughput, closed loop: wrk, {opts.connections} connections, {opts.seconds:g} s",
        ["server", "run", "acked", "errors", "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
         *CPU_COLUMNS],
    )  # fmt: skip
    for name, tp_runs in results.throughput.items():
        for i, t in enumerate(tp_runs, 1):
            tp.add_row(
                name, f"{i}{' (wrapped)' if t.wrapped else ''}", f"{t.ok:,}", str(t.errors),
                f"{t.events_per_s:,.0f}", f"{t.p50_ms:.1f}", f"{t.p90_ms:.1f}", f"{t.p99_ms:.1f}",
                f"{t.max_ms:.1f}", *_cpu_cells(t.cpu, t.ok),
            )  # fmt: skip
    console.print(tp)

    processing = _table(
        "Processing: from the first delivery received to the last one processed",
        ["server", "load", "stored", "backlog at end of load", "processed", "deliveries/s",
         "messages", "messages/s", "deferred", "failed", "drained"],
    )  # fmt: skip
    for label, table in (("fixed rate", results.fixed_processing), ("wrk", results.processing)):
        for name, p_runs in table.items():
            for i, p in enumerate(p_runs, 1):
                processing.add_row(
                    name, f"{label} {i}", f"{p.stored:,}", f"{p.backlog_at_end_of_load:,}",
                    f"{p.processed:,}", f"{p.deliveries_per_s:,.0f}", f"{p.messages:,}",
                    f"{p.messages_per_s:,.0f}", str(p.deferred), str(p.failed),
                    "yes" if p.drained else "[red]no[/red]",
                )  # fmt: skip
    console.print(processing)

    summary = _table(
        "Summary against the targets (each figure: run 1 / run 2 / ...)",
        ["measure", "figures", "target", ""],
    )
    for name, runs in results.fixed.items():
        p99s = [r.p99_ms for r in runs]
        achieved = _runs([r.achieved_rate for r in runs])
        summary.add_row(
            f"{name}: ack p99 at {opts.rate:g}/s (achieved {achieved}/s)",
            " / ".join(f"{_ms(v)} ms" for v in p99s),
            f"≤ {ACK_P99_TARGET_MS:g} ms at {TARGET_RATE:,}/s" if name != "bare" else "reference",
            # Judged only at the target's rate: a pass at a lower rate says nothing about it.
            _mark(all(v <= ACK_P99_TARGET_MS for v in p99s))
            if name != "bare" and opts.rate >= TARGET_RATE
            else "",
        )
    for name, tp_runs in results.throughput.items():
        summary.add_row(
            f"{name}: acknowledged events/s", _runs([t.events_per_s for t in tp_runs]), "", ""
        )
    for name, pairs in results.pairs.items():
        # Each run against the bare run just before it, on the same requests: that cancels some
        # of the noise of a shared machine.
        ratios = [t.events_per_s / b.events_per_s for b, t in pairs]
        summary.add_row(
            f"{name} / bare, events/s",
            _runs([100 * r for r in ratios], "{:.0f}%"),
            f"≥ {RATIO_TARGET:.0%}",
            _mark(all(r >= RATIO_TARGET for r in ratios)),
        )
        if all(b.cpu and t.cpu for b, t in pairs):
            costs = [
                (t.cpu.ms_per_request(t.ok), b.cpu.ms_per_request(b.ok))  # type: ignore[union-attr]
                for b, t in pairs
            ]
            summary.add_row(
                f"{name} / bare, web CPU ms per ack",
                " / ".join(
                    f"{own:.2f} / {floor:.2f} ms ({own / floor:.1f}x)" for own, floor in costs
                ),
                "",
                "",
            )
    for name, p_runs in results.processing.items():
        summary.add_row(
            f"{name}: processed deliveries/s (messages/s)",
            " / ".join(f"{p.deliveries_per_s:,.0f} ({p.messages_per_s:,.0f})" for p in p_runs),
            "",
            "",
        )
    failed, sample = results.failed
    summary.add_row("failed raw events", str(failed), "0", _mark(failed == 0))
    console.print(summary)
    if sample:
        console.print(f"first failure: {sample}")
    lagged = {
        name
        for name, runs in results.fixed.items()
        for r in runs
        if r.achieved_rate < 0.97 * r.target_rate or r.dispatch_lag_p99_ms > 5
    }
    if lagged:
        results.notes.append(
            "the fixed-rate client lagged (achieved rate < 97 % of the target or its own "
            f"dispatch lag p99 > 5 ms) in runs of {', '.join(sorted(lagged))}: those latencies "
            "include the client's delay (a busy machine: see the load average)"
        )
    if any(t.wrapped for tp_runs in results.throughput.values() for t in tp_runs):
        results.notes.append(
            "a wrk run used more requests than --events: it re-sent requests from the start, "
            "so more than 20 % of that run were duplicates (raise --events)"
        )
    console.print(
        "web CPU ms/ack: CPU of the web server process per acknowledged request; for `bandeja` "
        "(workers in-process) it includes what the ingest worker did during the run."
    )
    for note in results.notes:
        console.print(f"[yellow]note:[/yellow] {note}")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(
    rate: Annotated[float, typer.Option(help="Events/s of the fixed-rate run.", min=1)] = 1_000,
    seconds: Annotated[float, typer.Option(help="Length of each timed run.", min=1)] = 10,
    connections: Annotated[int, typer.Option(help="wrk connections.", min=1)] = 64,
    events: Annotated[
        int, typer.Option(help="Requests generated for each throughput run.", min=1_000)
    ] = 150_000,
    pg_url: Annotated[
        str | None,
        typer.Option(help="An empty database of yours on 127.0.0.1 instead of a private server."),
    ] = None,
    skip_baseline: Annotated[bool, typer.Option(help="Do not measure the bare baseline.")] = False,
    repeat: Annotated[int, typer.Option(help="Runs of each measurement.", min=1)] = 2,
    topology: Annotated[
        str,
        typer.Option(
            help="How Bandeja runs: `worker` (`bandeja serve` with BANDEJA_WORKERS_IN_PROCESS="
            "false and a `bandeja worker` process, the production topology), `in-process` (one "
            "`bandeja serve` running the workers too) or `both`."
        ),
    ] = "both",
    wrk_threads: Annotated[int, typer.Option(help="wrk threads.", min=1)] = 1,
    senders: Annotated[int, typer.Option(help="Distinct senders per account.", min=1)] = 2_000,
    durable: Annotated[
        bool, typer.Option(help="PostgreSQL with fsync and synchronous_commit on.")
    ] = False,
    drain_timeout: Annotated[
        float, typer.Option(help="Longest wait for the ingest worker to drain a run.")
    ] = 600,
    seed: Annotated[int, typer.Option(help="Random seed of the traffic.")] = 7,
) -> None:
    if topology not in (*TOPOLOGIES, "both"):
        raise typer.BadParameter(f"--topology: one of {', '.join(TOPOLOGIES)} or both")
    if shutil.which("wrk") is None:
        raise typer.BadParameter("wrk is needed: apt-get install wrk")
    opts = Options(
        rate=rate,
        seconds=seconds,
        connections=connections,
        events=events,
        pg_url=pg_url,
        skip_baseline=skip_baseline,
        repeat=repeat,
        topologies=list(TOPOLOGIES) if topology == "both" else [topology],
        wrk_threads=wrk_threads,
        senders=senders,
        durable=durable,
        drain_timeout=drain_timeout,
        seed=seed,
    )
    with tempfile.TemporaryDirectory(prefix="bandeja-bench-ingest-") as tmp:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(main_async(opts, Path(tmp)))
        report(results, opts)


if __name__ == "__main__":
    typer.run(main)
