"""Keeps ``conversation_tags.status`` equal to its conversation's status, in the same transaction.

A tag filter nearly always comes with a status (the open queue, follow-ups): with the status on
the tag row, "open conversations tagged *legal*" walks only the open ones in the index
``(tag_id, status, conversation_id)`` instead of every conversation that ever had the tag, which
for an old tag is mostly complete ones. Statuses change rarely (complete, reopen, follow-up), so
the extra ``UPDATE`` is cheap; a customer's new message touches it only when it reopens.

Like the counters, a flush hook sees every status change made through the ORM, whatever action
made it; bulk ``UPDATE`` statements bypass it (actions change conversations through the ORM).
"""

from __future__ import annotations

from sqlalchemy import bindparam, event, inspect, update
from sqlalchemy.orm import Session, UOWTransaction

from bandeja.core.conversations.models import Conversation, ConversationTag


def _status_changed(obj: Conversation) -> bool:
    deleted = list(inspect(obj).attrs.status.history.deleted)
    return bool(deleted) and deleted[0] != obj.status


@event.listens_for(Session, "after_flush")
def _sync_tag_status(session: Session, _flush: UOWTransaction) -> None:
    changed = [
        obj
        for obj in session.dirty
        if isinstance(obj, Conversation) and obj not in session.deleted and _status_changed(obj)
    ]
    if not changed:
        return
    connection = session.connection()
    # Sorted ids: two transactions touch tag rows in the same order and cannot deadlock.
    for obj in sorted(changed, key=lambda c: c.id):
        connection.execute(_UPDATE, {"cid": obj.id, "new_status": obj.status})


_UPDATE = (
    update(ConversationTag)
    .where(ConversationTag.conversation_id == bindparam("cid"))
    .values(status=bindparam("new_status"))
)
