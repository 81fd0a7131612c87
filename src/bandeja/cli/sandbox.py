"""``bandeja sandbox``: the stand-in for every platform, for the demo and for development."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
import uvicorn
from sqlalchemy import select

from bandeja.channels.config import channel_config
from bandeja.channels.sandbox.app import api_base_url
from bandeja.channels.sandbox.contract import SandboxChannel
from bandeja.channels.sandbox.engine import MAX_RATE_PER_MIN, Sandbox
from bandeja.cli.common import console, fail, settings
from bandeja.config import Settings
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.security import SecretBox
from bandeja.storage.engine import create_engine, session_factory

REFRESH_S = 15.0


async def _channels(config: Settings, sandbox_url: str) -> list[SandboxChannel]:
    """Bandeja's channel accounts that point at this sandbox."""
    engine = create_engine(config.effective_database_url, pool_size=1)
    box = SecretBox(config.resolved_secret_key())
    try:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(ChannelAccount))).scalars().all()
            found = []
            for channel in rows:
                if channel.settings.get("api_base_url") != api_base_url(
                    sandbox_url, channel.platform
                ):
                    continue
                cfg = channel_config(channel, box)
                found.append(
                    SandboxChannel(
                        bandeja_id=channel.id,
                        platform=channel.platform,
                        external_id=channel.external_id,
                        name=channel.name,
                        secrets=dict(cfg.secrets),
                        webhook_url=config.webhook_url(channel.platform.value, channel.id),
                    )
                )
            return found
    finally:
        await engine.dispose()


def sandbox(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "",
    port: Annotated[
        int, typer.Option(help="Port (default: from BANDEJA_SANDBOX_URL).", min=0, max=65535)
    ] = 0,
    rate: Annotated[
        float,
        typer.Option(
            help="Simulated customer actions per minute, over all channels (0: none).",
            min=0,
            max=MAX_RATE_PER_MIN,
        ),
    ] = 6.0,
    duplicates: Annotated[
        float,
        typer.Option(help="Share of webhooks delivered twice, as platforms do.", min=0, max=1),
    ] = 0.1,
    seed: Annotated[int | None, typer.Option(help="Random seed for repeatable traffic.")] = None,
) -> None:
    """Play every platform for the channel accounts whose API base URL points here: deliver
    signed webhooks (with duplicates, reordering and retries) and serve the send APIs."""
    config = settings()
    parts = urlsplit(config.sandbox_url)
    host = host or parts.hostname or "127.0.0.1"
    port = port or parts.port or 8001
    sandbox_url = f"http://{host}:{port}"
    if sandbox_url.rstrip("/") != config.sandbox_url.rstrip("/"):
        console.print(
            f"note: channel accounts must point at {sandbox_url}/<platform>; "
            f"set BANDEJA_SANDBOX_URL={sandbox_url} for the demo to use it"
        )

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            engine = Sandbox(client, rate_per_min=rate, duplicate_rate=duplicates, seed=seed)

            async def refresh() -> None:
                while True:
                    try:
                        for channel in await _channels(config, sandbox_url):
                            if channel.bandeja_id in engine.state.channels:
                                continue
                            if channel.platform not in engine.fakes:
                                console.print(
                                    f"no {channel.platform.value} stand-in; skipping "
                                    f"{channel.name!r}"
                                )
                                continue
                            engine.add_channel(channel)
                            console.print(
                                f"playing {channel.platform.value} for "
                                f"{channel.name!r} (channel {channel.bandeja_id})"
                            )
                    except Exception as exc:  # the database may not be migrated yet
                        console.print(f"[yellow]cannot read channel accounts yet:[/] {exc}")
                    await asyncio.sleep(REFRESH_S)

            server = uvicorn.Server(
                uvicorn.Config(engine.app(), host=host, port=port, log_level="warning")
            )
            tasks = [
                asyncio.create_task(refresh()),
                asyncio.create_task(engine.deliverer.run()),
                asyncio.create_task(engine.run_traffic()),
            ]
            console.print(
                f"sandbox on {sandbox_url} ({rate:g} actions/min); status: {sandbox_url}/_sandbox"
            )
            try:
                await server.serve()
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    try:
        asyncio.run(main())
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc}")
    except KeyboardInterrupt:
        pass
