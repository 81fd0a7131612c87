from __future__ import annotations

import typer

from bandeja.cli.common import console, run, settings
from bandeja.storage.engine import create_engine
from bandeja.storage.migrate import current_revision, upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade", help="Create or migrate the database schema to the latest version.")
def db_upgrade() -> None:
    config = settings()

    async def work() -> str | None:
        engine = create_engine(config.effective_database_url, pool_size=1)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = run(work)
    console.print(f"database at revision {revision}")


@app.command("revision", help="Print the schema revision of the database.")
def db_revision() -> None:
    config = settings()

    async def work() -> str | None:
        engine = create_engine(config.effective_database_url, pool_size=1)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    console.print(run(work) or "empty database (run `bandeja db upgrade`)")
