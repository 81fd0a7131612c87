from __future__ import annotations

import asyncio
import os
import signal

import uvloop

from bandeja.cli.common import console, settings
from bandeja.core.security import SecretBox
from bandeja.jobs.runner import Workers
from bandeja.realtime.service import build_realtime
from bandeja.storage.engine import create_engine, session_factory


def worker() -> None:
    """Run the ingest and send workers and the periodic jobs, without the web server."""
    config = settings()
    if config.worker_nice:
        # On a machine shared with web processes the worker would otherwise take an equal share
        # of the CPU while it works through a backlog, and acknowledgements wait in line
        # behind it (bench/README.md, ingest).
        os.nice(config.worker_nice)

    async def main() -> None:
        engine = create_engine(config.effective_database_url, pool_size=config.database_pool_size)
        workers = Workers(
            session_factory(engine),
            SecretBox(config.resolved_secret_key()),
            ingest_pace=config.ingest_pace,
        )
        # The events of the jobs (a new message, a delivery status) reach the browsers through
        # Redis; without it they would stay in this process, which serves no browser.
        realtime = build_realtime(config) if config.redis_url else None
        if realtime is not None:
            await realtime.start(serve_clients=False)
        else:
            console.print(
                "[yellow]BANDEJA_REDIS_URL is not set: browsers will not see this worker's "
                "changes live[/yellow]"
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        workers.start()
        console.print("worker running (ingest, send, follow-ups); Ctrl-C to stop")
        try:
            await stop.wait()
        finally:
            await workers.stop()
            if realtime is not None:
                await realtime.stop()
            await engine.dispose()

    # uvloop, as `bandeja serve` runs: every database round trip costs less CPU.
    uvloop.run(main())
