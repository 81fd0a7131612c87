"""Messages entering and leaving conversations.

``receive_message`` is the core of ingest: idempotent on the platform's message id, safe when two
deliveries race, and order-independent (conversation times only move forward; an old message that
arrives late does not reopen a completed conversation). A race is settled by the unique indexes
with ``INSERT … ON CONFLICT DO NOTHING``, never by a SAVEPOINT: the ingest worker applies a batch
of deliveries in one transaction. There a message from a known person costs one statement, its
insert (the look-ups of the message, identity and conversation are made once for the whole batch:
``known.py``), and the conversation's update at the batch's flush.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.activity.actions import record
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.contacts.actions import IdentityInfo, identify
from bandeja.core.contacts.models import Contact
from bandeja.core.conversations import search
from bandeja.core.conversations.counters import count_inserted
from bandeja.core.conversations.models import Conversation, Kind, Status
from bandeja.core.events import (
    ConversationChanged,
    ConversationCreated,
    MessageChanged,
    MessageCreated,
    emit,
)
from bandeja.core.messages.known import known
from bandeja.core.messages.models import (
    STATUS_RANK,
    AuthorType,
    DeliveryStatus,
    Direction,
    Message,
)
from bandeja.core.text import clean_json, clean_text, snippet
from bandeja.storage.base import utcnow
from bandeja.storage.returning import insert_returning, returning_all, table_of
from bandeja.storage.upsert import dialect_insert


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """Which conversation a platform event belongs to (see ``Conversation.thread_key``)."""

    kind: Kind
    key: str
    subject: str | None = None
    post_url: str | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    external_id: str | None
    text: str
    sent_at: datetime
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to_external_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# The ingest path runs these for nearly every delivery: built once, since building a statement
# costs more CPU than executing it.
_FIND_CONVERSATION = (
    select(Conversation)
    .where(
        Conversation.channel_account_id == bindparam("channel_account_id"),
        Conversation.kind == bindparam("kind"),
        Conversation.thread_key == bindparam("thread_key"),
    )
    # Serialise writers of one conversation so that its counters and times stay exact.
    .with_for_update()
)
_FIND_MESSAGE = select(Message).where(
    Message.channel_account_id == bindparam("channel_account_id"),
    Message.external_id == bindparam("external_id"),
)
_MESSAGE_ID = select(Message.id).where(
    Message.channel_account_id == bindparam("channel_account_id"),
    Message.external_id == bindparam("external_id"),
)


@functools.cache
def _insert_conversation(dialect_name: str) -> Any:
    return returning_all(
        dialect_insert(dialect_name, table_of(Conversation)).on_conflict_do_nothing(
            index_elements=["channel_account_id", "kind", "thread_key"]
        ),
        Conversation,
    )


@functools.cache
def _insert_message(dialect_name: str) -> Any:
    table = table_of(Message)
    return returning_all(
        dialect_insert(dialect_name, table).on_conflict_do_nothing(
            index_elements=["channel_account_id", "external_id"],
            index_where=table.c.external_id.is_not(None),
        ),
        Message,
    )


async def find_conversation(
    session: AsyncSession, channel_account_id: int, thread: ThreadInfo
) -> Conversation | None:
    """The thread's conversation, locked until the transaction ends."""
    params = {
        "channel_account_id": channel_account_id,
        "kind": thread.kind,
        "thread_key": thread.key,
    }
    return (await session.execute(_FIND_CONVERSATION, params)).scalar_one_or_none()


async def get_or_create_conversation(
    session: AsyncSession,
    channel: ChannelAccount,
    contact_id: int,
    thread: ThreadInfo,
    *,
    first_at: datetime,
    new_contact: Contact | None = None,
) -> tuple[Conversation, bool]:
    """The thread's conversation, locked for this transaction; created at most once.

    Two deliveries opening the same thread can race: ``INSERT … ON CONFLICT DO NOTHING`` lets
    one win (on PostgreSQL the other waits for the winner's commit), and the other reads and
    locks the winner's row. No SAVEPOINT, so that a batch of deliveries runs in one transaction.
    ``new_contact``: the contact of ``contact_id`` when this transaction just created it. It
    has no conversation yet (though a comment thread may be another person's), so the insert
    comes first; and its name need not be read.
    """
    batch = known(session)
    looked_up, conversation = (
        batch.conversation((channel.id, thread.kind, thread.key))
        if batch is not None
        else (False, None)
    )
    if not looked_up and new_contact is None:
        conversation = await find_conversation(session, channel.id, thread)
    if conversation is not None:
        return conversation, False
    # The contact's name seeds the search document; needed only for a new conversation.
    contact = new_contact or await session.get(Contact, contact_id)
    assert contact is not None
    values = {
        "workspace_id": channel.workspace_id,
        "channel_account_id": channel.id,
        "contact_id": contact.id,
        "kind": thread.kind,
        "thread_key": thread.key,
        "subject": thread.subject,
        "post_url": thread.post_url,
        "status": Status.open,
        "last_activity_at": first_at,
        "search_document": search.initial_document(contact.name, thread.subject),
    }
    stmt = _insert_conversation(session.get_bind().dialect.name)
    created = await insert_returning(session, stmt, values, Conversation)
    if created is None:
        conversation = await find_conversation(session, channel.id, thread)
        if conversation is None:  # pragma: no cover - the unique index guarantees a winner
            raise RuntimeError(f"conversation {thread.key!r} conflicted but cannot be found")
        if batch is not None:
            batch.add_conversation(conversation)
        return conversation, False
    if batch is not None:
        batch.add_conversation(created)
    await count_inserted(session, created)
    emit(
        session,
        ConversationCreated(
            workspace_id=channel.workspace_id,
            channel_account_id=channel.id,
            conversation_id=created.id,
        ),
    )
    return created, True


async def find_by_external_id(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> Message | None:
    params = {"channel_account_id": channel_account_id, "external_id": external_id}
    return (await session.execute(_FIND_MESSAGE, params)).scalar_one_or_none()


def _apply(conversation: Conversation, message: Message) -> dict[str, Any]:
    """Fold a new message into its conversation; returns the changed fields for the event."""
    changes: dict[str, Any] = {}
    at = message.sent_at
    conversation.message_count += 1
    conversation.search_document = search.append(conversation.search_document, message.text)
    newest = at >= conversation.last_activity_at or conversation.message_count == 1
    if newest:
        conversation.last_activity_at = at
        conversation.last_message_preview = snippet(message.text) or _attachment_label(message)
        changes["last_activity_at"] = at.isoformat()
        changes["snippet"] = conversation.last_message_preview
    if message.direction is Direction.inbound:
        conversation.last_inbound_received_at = utcnow()
        if conversation.last_inbound_at is None or at > conversation.last_inbound_at:
            conversation.last_inbound_at = at
            changes["last_inbound_at"] = at.isoformat()
        # A customer writing again reopens the conversation, unless the message is older than
        # the moment the team closed it, or than the thread's latest message when it waits for
        # a follow-up (a late, reordered delivery).
        closed_at = conversation.completed_at if conversation.status is Status.complete else None
        if (conversation.status is Status.follow_up and newest) or (closed_at and at > closed_at):
            conversation.status = Status.open
            conversation.follow_up_until = None
            conversation.completed_at = None
            changes["status"] = Status.open.value
            changes["follow_up_until"] = None
            changes["completed_at"] = None
    elif conversation.last_outbound_at is None or at > conversation.last_outbound_at:
        conversation.last_outbound_at = at
        changes["last_outbound_at"] = at.isoformat()
    return changes


def _attachment_label(message: Message) -> str:
    if not message.attachments:
        return ""
    kinds = {str(a.get("type", "file")) for a in message.attachments}
    return "[" + ", ".join(sorted(kinds)) + "]"


def _add_message(session: AsyncSession, conversation: Conversation, message: Message) -> None:
    changes = _apply(conversation, message)
    emit(
        session,
        MessageCreated(
            workspace_id=conversation.workspace_id,
            channel_account_id=conversation.channel_account_id,
            conversation_id=conversation.id,
            message_id=message.id,
            direction=message.direction,
            sent_at=message.sent_at,
            actor_user_id=message.author_user_id,
        ),
    )
    if changes:
        if changes.get("status") == Status.open.value:
            record(
                session,
                workspace_id=conversation.workspace_id,
                verb="conversation.reopened",
                actor_user_id=None,
                conversation_id=conversation.id,
                reason="new_message",
            )
        emit(
            session,
            ConversationChanged(
                workspace_id=conversation.workspace_id,
                channel_account_id=conversation.channel_account_id,
                conversation_id=conversation.id,
                changes=changes,
            ),
        )


async def receive_message(
    session: AsyncSession,
    channel: ChannelAccount,
    sender: IdentityInfo,
    thread: ThreadInfo,
    incoming: IncomingMessage,
) -> tuple[Message, bool]:
    """Store an inbound message once. Returns the message and whether it was new."""
    batch = known(session)
    key = (channel.id, incoming.external_id or "")
    if incoming.external_id and not (batch is not None and batch.message_absent(key)):
        # Messages are inserted at once (never left pending in the session): the connection
        # sees them, and answers without the ORM's per-statement work.
        connection = await session.connection()
        params = {"channel_account_id": channel.id, "external_id": incoming.external_id}
        if (await connection.execute(_MESSAGE_ID, params)).first() is not None:
            existing = await find_by_external_id(session, channel.id, incoming.external_id)
            assert existing is not None
            return existing, False
    identity, new_contact = await identify(
        session, workspace_id=channel.workspace_id, channel_account_id=channel.id, info=sender
    )
    conversation, _ = await get_or_create_conversation(
        session,
        channel,
        identity.contact_id,
        thread,
        first_at=incoming.sent_at,
        new_contact=new_contact,
    )
    values = {
        "workspace_id": channel.workspace_id,
        "conversation_id": conversation.id,
        "channel_account_id": channel.id,
        "direction": Direction.inbound,
        "author_type": AuthorType.contact,
        "author_contact_id": identity.contact_id,
        "text": clean_text(incoming.text),
        "attachments": clean_json(incoming.attachments),
        "extra": clean_json(incoming.extra),
        "external_id": incoming.external_id,
        "reply_to_external_id": incoming.reply_to_external_id,
        "sent_at": incoming.sent_at,
        "status": DeliveryStatus.received,
    }
    # The unique index on (channel account, platform id) settles a race between two deliveries
    # of the same message: the loser inserts nothing and returns the winner's row.
    stmt = _insert_message(session.get_bind().dialect.name)
    message = await insert_returning(session, stmt, values, Message)
    if batch is not None and incoming.external_id:
        batch.add_message(key)  # inserted now, or by whoever won the race below
    if message is None:
        existing = await find_by_external_id(session, channel.id, incoming.external_id or "")
        if existing is None:  # pragma: no cover - the unique index guarantees a winner
            raise RuntimeError(f"message {incoming.external_id!r} conflicted but cannot be found")
        return existing, False
    _add_message(session, conversation, message)
    return message, True


async def record_outbound(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str,
    sent_at: datetime,
    author_type: AuthorType,
    author_user_id: int | None = None,
    status: DeliveryStatus = DeliveryStatus.queued,
    external_id: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> Message:
    """Store an outbound message (a reply, a bot answer, or an echo from the native app)."""
    message = Message(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        channel_account_id=conversation.channel_account_id,
        direction=Direction.outbound,
        author_type=author_type,
        author_user_id=author_user_id,
        text=clean_text(text),
        attachments=clean_json(attachments or []),
        external_id=external_id,
        sent_at=sent_at,
        status=status,
    )
    session.add(message)
    await session.flush()
    _add_message(session, conversation, message)
    return message


def moves_forward(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    """Statuses never go back (read → delivered is ignored). A failure counts only before the
    message reached the person: WhatsApp may report ``failed`` after ``sent``."""
    if new is DeliveryStatus.failed:
        return current in (DeliveryStatus.queued, DeliveryStatus.sent)
    return STATUS_RANK[new] > STATUS_RANK[current]


def set_status(
    session: AsyncSession,
    message: Message,
    status: DeliveryStatus,
    *,
    force: bool = False,
    error: tuple[str | None, str | None] | None = None,
) -> bool:
    """Move a message's delivery status forward (or anywhere, with ``force``); emits the change."""
    if not force and not moves_forward(message.status, status):
        return False
    message.status = status
    changes: dict[str, object] = {"status": status.value}
    if error is not None:
        message.error_code, message.error_message = error
        changes["error_code"], changes["error_message"] = error
    emit(
        session,
        MessageChanged(
            workspace_id=message.workspace_id,
            channel_account_id=message.channel_account_id,
            conversation_id=message.conversation_id,
            message_id=message.id,
            changes=changes,
        ),
    )
    return True
