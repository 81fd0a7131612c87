"""``bandeja events``: the stored webhook deliveries; replay the ones that failed."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from bandeja.cli.common import console, database, run, settings
from bandeja.core.ingest.actions import requeue
from bandeja.core.ingest.models import RawEvent, RawEventStatus
from bandeja.core.security import SecretBox
from bandeja.jobs.runner import Workers
from bandeja.storage.engine import create_engine, session_factory

app = typer.Typer(help="Stored webhook deliveries.", no_args_is_help=True)


@app.command("list", help="Stored deliveries, newest first.")
def events_list(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only those whose processing failed.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of objects.")] = False,
) -> None:
    config = settings()

    async def work() -> list[dict[str, object]]:
        async with database(config) as session:
            stmt = select(RawEvent).order_by(RawEvent.id.desc()).limit(limit)
            if failed:
                stmt = stmt.where(RawEvent.status == RawEventStatus.failed)
            rows = (await session.execute(stmt)).scalars().all()
            return [
                {
                    "id": r.id,
                    "platform": r.platform.value,
                    "channel_account_id": r.channel_account_id,
                    "status": r.status.value,
                    "received_at": r.received_at.isoformat(),
                    "attempts": r.attempts,
                    "error": r.error,
                    "size": len(r.body),
                }
                for r in rows
            ]

    rows = run(work)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="Failed deliveries" if failed else "Deliveries")
    for column in ("id", "platform", "channel", "status", "received", "attempts", "error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["platform"]),
            str(row["channel_account_id"]),
            str(row["status"]),
            str(row["received_at"]),
            str(row["attempts"]),
            str(row["error"] or "")[:80],
        )
    console.print(table)


@app.command("replay", help="Process failed deliveries again (all, or the ids given).")
def events_replay(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Delivery ids (default: every failed one).")
    ] = None,
    include_processed: Annotated[
        bool,
        typer.Option(
            "--all", help="Also replay deliveries that were processed (they are idempotent)."
        ),
    ] = False,
) -> None:
    config = settings()

    async def work() -> tuple[int, int]:
        engine = create_engine(config.effective_database_url, pool_size=2)
        sessions = session_factory(engine)
        workers = Workers(sessions, SecretBox(config.resolved_secret_key()))
        try:
            async with sessions() as session:
                queued = await requeue(session, ids=ids, failed_only=not include_processed)
                await session.commit()
            await workers.drain()
            async with sessions() as session:
                stmt = select(RawEvent.id).where(RawEvent.status == RawEventStatus.failed)
                if ids:
                    stmt = stmt.where(RawEvent.id.in_(ids))
                still = len((await session.execute(stmt)).all())
            return queued, still
        finally:
            await workers.stop()
            await engine.dispose()

    queued, still = run(work)
    console.print(f"replayed {queued} deliveries; {still} still failing")
    if still:
        raise typer.Exit(1)
