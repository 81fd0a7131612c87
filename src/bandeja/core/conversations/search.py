"""Text search over conversations (folded contact name + message texts).

The searchable text is ``Conversation.search_document``, appended to by the message actions.
PostgreSQL answers with a GIN index on ``to_tsvector('simple', search_document)`` (created by the
initial migration; the expression here must stay identical to hit it), words matched as prefixes.
SQLite matches each word as a substring; fine for the embedded sizes it serves.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, func, literal_column

from bandeja.core.conversations.models import Conversation
from bandeja.core.text import fold, search_words

# Long conversations keep their newest text searchable: the head (contact name) and the tail.
MAX_DOCUMENT = 20_000


def match(dialect_name: str, query: str) -> ColumnElement[bool]:
    words = search_words(query)
    if not words:
        return false()
    if dialect_name == "postgresql":
        vector = func.to_tsvector(
            literal_column("'simple'::regconfig"), Conversation.search_document
        )
        tsquery = func.to_tsquery(
            literal_column("'simple'::regconfig"), " & ".join(f"{w}:*" for w in words)
        )
        return vector.op("@@")(tsquery)
    return and_(*(Conversation.search_document.contains(w, autoescape=True) for w in words))


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
