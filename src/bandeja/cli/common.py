"""What every command shares: settings, a database session, and clean failure messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.config import Settings, get_settings
from bandeja.core.errors import DomainError
from bandeja.storage.engine import create_engine, session_factory

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic validation of BANDEJA_* variables
        fail(f"bad settings: {exc}")


@asynccontextmanager
async def database(config: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(config.effective_database_url, pool_size=2)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; domain and database errors end the command with a message, not a trace."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except DomainError as exc:
        fail(exc.message)
    except (OperationalError, ProgrammingError) as exc:
        hint = (
            " (has `bandeja db upgrade` been run?)"
            if "no such table" in str(exc) or "does not exist" in str(exc)
            else ""
        )
        fail(f"database error: {exc.orig}{hint}")
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
