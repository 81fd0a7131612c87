"""Typed domain events, published only after the transaction that caused them commits.

This is the only door from the core to realtime delivery and background jobs. Actions call
:func:`emit`; the events wait in the session and reach the subscribers of :data:`bus` once the
commit succeeded, so no browser ever sees a change that was rolled back.

Each event names its audience: ``channel_account_id`` (members of that channel account, plus
admins) or ``user_ids`` (only those users). A client that applies the events it receives to an old
snapshot must end with what a fresh load shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)


class BaseEvent(BaseModel):
    workspace_id: int
    channel_account_id: int | None = None
    user_ids: list[int] | None = None
    actor_user_id: int | None = None


class ConversationCreated(BaseEvent):
    type: Literal["conversation.created"] = "conversation.created"
    conversation_id: int


class ConversationChanged(BaseEvent):
    """Fields of a conversation changed; ``changes`` maps each field to its new value."""

    type: Literal["conversation.changed"] = "conversation.changed"
    conversation_id: int
    changes: dict[str, Any]


class MessageCreated(BaseEvent):
    type: Literal["message.created"] = "message.created"
    conversation_id: int
    message_id: int
    direction: Literal["inbound", "outbound"]
    sent_at: datetime


class MessageChanged(BaseEvent):
    type: Literal["message.changed"] = "message.changed"
    conversation_id: int
    message_id: int
    changes: dict[str, Any]


class NoteCreated(BaseEvent):
    type: Literal["note.created"] = "note.created"
    conversation_id: int
    note_id: int
    mentioned_user_ids: list[int]


class ConversationRead(BaseEvent):
    type: Literal["conversation.read"] = "conversation.read"
    conversation_id: int
    read: bool


class ContactsMerged(BaseEvent):
    type: Literal["contacts.merged"] = "contacts.merged"
    contact_id: int
    merged_contact_id: int


class WorkspaceChanged(BaseEvent):
    """Workspace-level settings changed (tags, views, teams, users, channel accounts)."""

    type: Literal["workspace.changed"] = "workspace.changed"
    what: Literal["tags", "views", "teams", "users", "channel_accounts", "saved_replies"]


class NotificationCreated(BaseEvent):
    """A teammate mentioned or assigned the user (``user_ids``: that user only)."""

    type: Literal["notification.created"] = "notification.created"
    notification_id: int
    kind: Literal["mention", "assignment"]
    conversation_id: int
    note_id: int | None
    unread: int


class NotificationsRead(BaseEvent):
    """The user read notifications (``notification_ids`` None: all of them)."""

    type: Literal["notifications.read"] = "notifications.read"
    notification_ids: list[int] | None
    unread: int


Event = Annotated[
    ConversationCreated
    | ConversationChanged
    | MessageCreated
    | MessageChanged
    | NoteCreated
    | ConversationRead
    | ContactsMerged
    | WorkspaceChanged
    | NotificationCreated
    | NotificationsRead,
    Field(discriminator="type"),
]
event_adapter: TypeAdapter[Event] = TypeAdapter(Event)

Subscriber = Callable[[Sequence[BaseEvent]], None]


class EventBus:
    """In-process fan-out of committed events. Subscribers must be quick and must not raise."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, events: Sequence[BaseEvent]) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(events)
            except Exception:  # a broken listener must not undo a committed write
                log.exception("event subscriber failed")


bus = EventBus()

_PENDING = "bandeja.pending_events"


def emit(session: Session | Any, event: BaseEvent) -> None:
    """Queue ``event`` on the session; it is published if and when the session commits.

    Accepts a sync ``Session`` or an ``AsyncSession`` (whose ``info`` is the sync session's).
    """
    session.info.setdefault(_PENDING, []).append(event)


def pending_mark(session: Session | Any) -> int:
    """A bookmark in the session's queued events (see :func:`discard_since`)."""
    return len(session.info.get(_PENDING, []))


def discard_since(session: Session | Any, mark: int) -> None:
    """Drop the events queued after ``mark``: their SAVEPOINT was rolled back."""
    pending = session.info.get(_PENDING)
    if pending is not None:
        del pending[mark:]


@sa_event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if events:
        bus.publish(events)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only the outermost transaction's rollback drops the queued events. A rolled-back SAVEPOINT
    # (or the flush sub-transaction inside it) takes back only its own events, which its caller
    # removes with discard_since; the outer transaction's events still wait for the commit.
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_PENDING, None)
