"""Text search over conversations (folded contact name + message texts).

The searchable text is ``Conversation.search_document``, appended to by the message actions.
PostgreSQL keeps ``search_vector = to_tsvector('simple', search_document)`` as a stored generated
column with a GIN index (initial migration); words match as prefixes. SQLite matches each word as
a substring, fine for the embedded sizes it serves.

The planner cannot estimate how many rows a prefix query matches, and guesses 0.5%. For a rare
word it then walks the whole inbox order filtering row by row (seconds at a million
conversations); for a common word, asking the GIN index builds a bitmap of hundreds of thousands
of rows (hundreds of milliseconds). :func:`rare_matches` reads the column's statistics (the
lexemes ANALYZE found frequent) to tell the two apart: a common query walks the inbox order and
finds a page at once; a rare one asks the GIN index and lists those few ids.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.conversations.models import Conversation
from bandeja.core.text import fold, search_words
from bandeja.storage import reads

# Long conversations keep their newest text searchable: the head (contact name) and the tail.
MAX_DOCUMENT = 20_000


def match(dialect_name: str, query: str) -> ColumnElement[bool]:
    words = search_words(query)
    if not words:
        return false()
    if dialect_name == "postgresql":
        return _vector().op("@@")(_tsquery(words))
    return and_(*(Conversation.search_document.contains(w, autoescape=True) for w in words))


def _vector() -> ColumnElement[Any]:
    return literal_column("conversations.search_vector")


def _tsquery(words: list[str]) -> ColumnElement[Any]:
    # Words are \w+ only (search_words), so they cannot carry tsquery operators.
    return func.to_tsquery(
        literal_column("'simple'::regconfig"), " & ".join(f"{w}:*" for w in words)
    )


RARE_LIMIT = 1000
# A query matching at least this share of conversations finds a page quickly in inbox order.
COMMON_SHARE = 0.002


async def _frequent(session: AsyncSession, words: list[str]) -> bool:
    """Whether ``words`` (as prefixes, all of them) match a large share of conversations,
    estimated from ``pg_stats`` like the planner would if it understood prefixes. No statistics
    yet (a new or small table): not frequent, and asking the index is cheap anyway."""
    row = (
        await reads.rows(
            session,
            text(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE tablename = 'conversations' AND attname = 'search_vector' "
                "AND schemaname = current_schema()"
            ),
        )
    ).first()
    if row is None or not row[0] or not row[1]:
        return False
    elems: list[str] = list(row[0])
    freqs: list[float] = list(row[1])[: len(elems)]
    share = 1.0
    for word in words:
        share *= min(1.0, sum(f for e, f in zip(elems, freqs, strict=True) if e.startswith(word)))
    return share >= COMMON_SHARE


async def rare_matches(session: AsyncSession, workspace_id: int, query: str) -> list[int] | None:
    """The ids of the conversations matching ``query`` when there are fewer than
    ``RARE_LIMIT`` of them (PostgreSQL); None when there are more, or on SQLite.

    The probe reads a MATERIALIZED CTE under the LIMIT: PostgreSQL plans a CTE for all its rows
    (no row goal), for which the GIN bitmap scan is the cheapest plan by far, and reads it only
    as far as the LIMIT asks. The same condition planned under the LIMIT itself looks quick to
    find by walking the table or an index, which is seconds for a rare word. (Turning the
    other scans off with ``SET LOCAL`` in a SAVEPOINT did the same in five round trips.)"""
    words = search_words(query)
    if not words or session.get_bind().dialect.name != "postgresql":
        return None
    if await _frequent(session, words):
        return None
    matches = (
        select(Conversation.id)
        .where(Conversation.workspace_id == workspace_id, _vector().op("@@")(_tsquery(words)))
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    rows = await reads.rows(session, select(matches.c.id).limit(RARE_LIMIT))
    ids = [row[0] for row in rows]
    return ids if len(ids) < RARE_LIMIT else None


def initial_document(contact_name: str, subject: str | None = None) -> str:
    return fold(" ".join(filter(None, [contact_name, subject])))


def append(document: str, text: str) -> str:
    addition = fold(text).strip()
    if not addition:
        return document
    combined = f"{document}\n{addition}" if document else addition
    if len(combined) <= MAX_DOCUMENT:
        return combined
    head, _, _ = document.partition("\n")
    keep = MAX_DOCUMENT - len(head) - 1
    return head + "\n" + combined[-keep:]
