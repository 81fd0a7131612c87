"""Portable ``INSERT ... ON CONFLICT`` for the two supported backends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def dialect_insert(dialect_name: str, table: Any) -> Any:
    """An insert construct that supports ``on_conflict_do_*`` on PostgreSQL and SQLite."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect_name!r}")


def insert_ignore(
    dialect_name: str,
    table: Any,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    index_elements: Sequence[str],
    index_where: Any = None,
) -> Insert:
    stmt = dialect_insert(dialect_name, table).values(values)
    result: Insert = stmt.on_conflict_do_nothing(
        index_elements=index_elements, index_where=index_where
    )
    return result
