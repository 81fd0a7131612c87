"""Hot reads as plain rows, without the ORM's per-row work.

``AsyncSession.execute`` runs even a select of plain columns through the ORM: an ORM compile
state and a loading step for every row, 0.3 to 1 ms for an inbox page of fifty rows (measured at
1M conversations), as long as PostgreSQL takes to find and send them. The inbox reads build
their responses from tuples, so they execute on the session's connection (same transaction)
instead.

Each statement is a round trip and, on PostgreSQL (``plan_cache_mode=force_custom_plan``), a
planning: a row's few children come with it as a JSON array (:func:`json_array_agg`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, CursorResult, Executable, func, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations

_BY_POSITION = {"_result_disable_adapt_to_context": True}


async def rows(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Execute ``statement`` in ``session``'s transaction and return its Core result.

    Changes pending in the session are flushed first, as ``session.execute`` would (autoflush),
    so that a read made after a change in the same transaction sees it.
    """
    if session.sync_session.autoflush and (session.new or session.dirty or session.deleted):
        await session.flush()
    connection = await session.connection()
    # The callers read rows by position; SQLAlchemy would otherwise re-key the cached result
    # columns to this statement's column objects on every execution (~0.2 ms a page). The ORM
    # sets the same option for its own statements; unknown to another version, it is ignored.
    return await connection.execute(statement, params, execution_options=_BY_POSITION)


def json_array_agg(dialect_name: str, *columns: SQLCoreOperations[Any]) -> ColumnElement[Any]:
    """An aggregate of the group's rows as one JSON array: of values for one column, of arrays
    for several. Over no rows: NULL on PostgreSQL, ``[]`` on SQLite. It lets a correlated
    subquery bring a row's few children (tags, mentions) in the row itself, instead of one more
    statement or one row per child."""
    if dialect_name == "postgresql":
        item = columns[0] if len(columns) == 1 else func.json_build_array(*columns)
        return type_coerce(func.json_agg(item), JSON())
    item = columns[0] if len(columns) == 1 else func.json_array(*columns)
    return type_coerce(func.json_group_array(item), JSON())
