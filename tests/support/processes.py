"""Run ``bandeja serve`` and ``bandeja worker`` as real processes on loopback ports (tests and
benchmarks of the several-process topology)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

BANDEJA = [sys.executable, "-m", "bandeja"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _ready(process: Process) -> bool:
    if process.url is None:
        return "worker running" in process.output()
    try:
        return httpx.get(f"{process.url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: Process) -> None:
    if process.popen.poll() is None:
        process.popen.terminate()
        try:
            process.popen.wait(15)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(5)


@contextlib.contextmanager
def bandeja_processes(
    env: Mapping[str, str], logdir: Path, *, web: int = 2, workers: int = 1
) -> Iterator[list[Process]]:
    """``web`` serve processes (their ``url`` set) and ``workers`` worker processes, all started
    and ready; stopped on exit."""
    base = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    started: list[Process] = []
    try:
        for n in range(web):
            port = free_port()
            log = logdir / f"serve-{n}.log"
            popen = subprocess.Popen(
                [*BANDEJA, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=base,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            started.append(Process(f"serve-{n}", popen, log, f"http://127.0.0.1:{port}"))
        for n in range(workers):
            log = logdir / f"worker-{n}.log"
            popen = subprocess.Popen(
                [*BANDEJA, "worker"], env=base, stdout=log.open("wb"), stderr=subprocess.STDOUT
            )
            started.append(Process(f"worker-{n}", popen, log))
        deadline = time.monotonic() + 60
        for process in started:
            while not _ready(process):
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited:\n{process.output()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{process.name} did not start:\n{process.output()}")
                time.sleep(0.1)
        yield started
    finally:
        for process in started:
            _stop(process)
