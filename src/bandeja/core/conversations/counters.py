"""Keeps ``conversation_counts`` equal to ``COUNT(*)`` of conversations, in the same transaction.

A flush hook sees every conversation created, deleted, or moved between counter cells (channel
account, kind, status, assignee), whatever action did it, and applies the deltas with one upsert
per touched cell. Cells are updated in sorted order so that two transactions moving conversations
in opposite directions lock the rows in the same order and cannot deadlock.

Bulk ``UPDATE``/``DELETE`` statements bypass the ORM and so this hook: actions change
conversations through the ORM. :func:`rebuild` recomputes every cell of a workspace.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from bandeja.core.conversations.models import Conversation, ConversationCount
from bandeja.storage.upsert import dialect_insert

Cell = tuple[int, int, str, str, int]
_KEY_FIELDS = ("workspace_id", "channel_account_id", "kind", "status", "assignee_id")


def _value(raw: Any) -> Any:
    return raw.value if hasattr(raw, "value") else raw


def _cell(values: dict[str, Any]) -> Cell:
    return (
        values["workspace_id"],
        values["channel_account_id"],
        str(_value(values["kind"])),
        str(_value(values["status"])),
        values["assignee_id"] or 0,
    )


def _current(obj: Conversation) -> Cell:
    return _cell({name: getattr(obj, name) for name in _KEY_FIELDS})


def _previous(obj: Conversation) -> Cell | None:
    state = inspect(obj)
    values: dict[str, Any] = {}
    changed = False
    for name in _KEY_FIELDS:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
            changed = True
        else:
            values[name] = getattr(obj, name)
    return _cell(values) if changed else None


@event.listens_for(Session, "after_flush")
def _count_after_flush(session: Session, _flush: UOWTransaction) -> None:
    deltas: Counter[Cell] = Counter()
    for obj in session.new:
        if isinstance(obj, Conversation):
            deltas[_current(obj)] += 1
    for obj in session.dirty:
        if isinstance(obj, Conversation) and obj not in session.deleted:
            before = _previous(obj)
            if before is not None and before != _current(obj):
                deltas[before] -= 1
                deltas[_current(obj)] += 1
    for obj in session.deleted:
        if isinstance(obj, Conversation):
            deltas[_previous(obj) or _current(obj)] -= 1
    cells = sorted((cell, n) for cell, n in deltas.items() if n)
    if not cells:
        return
    connection = session.connection()
    stmt = _upsert(connection.dialect.name)
    for cell, n in cells:
        connection.execute(stmt, _params(cell, n))


@functools.cache
def _upsert(dialect_name: str) -> Any:
    """``n += :n`` on one cell, created at 0 if missing (built once: ingest runs it often)."""
    table = ConversationCount.__table__
    stmt = dialect_insert(dialect_name, table)
    return stmt.on_conflict_do_update(
        index_elements=list(_KEY_FIELDS), set_={"n": table.c.n + stmt.excluded.n}
    )


def _params(cell: Cell, n: int) -> dict[str, Any]:
    return {**dict(zip(_KEY_FIELDS, cell, strict=True)), "n": n}


async def count_inserted(session: AsyncSession, conversation: Conversation) -> None:
    """Count a conversation inserted by a statement (ingest's ``INSERT … ON CONFLICT DO
    NOTHING RETURNING``) rather than by the unit of work, which the flush hook cannot see."""
    stmt = _upsert(session.get_bind().dialect.name)
    await session.execute(stmt, _params(_current(conversation), 1))


async def rebuild(session: AsyncSession, workspace_id: int) -> int:
    """Recompute every counter cell of a workspace from the conversations; returns the cells."""
    C = Conversation
    await session.execute(
        delete(ConversationCount).where(ConversationCount.workspace_id == workspace_id)
    )
    rows = await session.execute(
        select(C.channel_account_id, C.kind, C.status, C.assignee_id, func.count())
        .where(C.workspace_id == workspace_id)
        .group_by(C.channel_account_id, C.kind, C.status, C.assignee_id)
    )
    cells = [
        ConversationCount(
            workspace_id=workspace_id,
            channel_account_id=channel_id,
            kind=str(_value(kind)),
            status=str(_value(status)),
            assignee_id=assignee_id or 0,
            n=n,
        )
        for channel_id, kind, status, assignee_id, n in rows
    ]
    session.add_all(cells)
    await session.flush()
    return len(cells)
