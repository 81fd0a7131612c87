"""Messages entering and leaving conversations.

``receive_message`` is the core of ingest: idempotent on the platform's message id, safe when two
deliveries race, and order-independent (conversation times only move forward; an old message that
arrives late does not reopen a completed conversation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.activity.actions import record
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.contacts.actions import IdentityInfo, get_or_create_identity
from bandeja.core.contacts.models import Contact
from bandeja.core.conversations import search
from bandeja.core.conversations.models import Conversation, Kind, Status
from bandeja.core.events import (
    ConversationChanged,
    ConversationCreated,
    MessageChanged,
    MessageCreated,
    emit,
)
from bandeja.core.messages.models import (
    STATUS_RANK,
    AuthorType,
    DeliveryStatus,
    Direction,
    Message,
)
from bandeja.core.text import clean_json, clean_text, snippet
from bandeja.storage.base import utcnow


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


async def find_conversation(
    session: AsyncSession, channel_account_id: int, thread: ThreadInfo
) -> Conversation | None:
    return (
        await session.execute(
            select(Conversation)
            .where(
                Conversation.channel_account_id == channel_account_id,
                Conversation.kind == thread.kind,
                Conversation.thread_key == thread.key,
            )
            # Serialise writers of one conversation so that its counters and times stay exact.
            .with_for_update()
        )
    ).scalar_one_or_none()


async def get_or_create_conversation(
    session: AsyncSession,
    channel: ChannelAccount,
    contact_id: int,
    thread: ThreadInfo,
    *,
    first_at: datetime,
) -> tuple[Conversation, bool]:
    conversation = await find_conversation(session, channel.id, thread)
    if conversation is not None:
        return conversation, False
    # The contact's name seeds the search document; needed only for a new conversation.
    contact = await session.get(Contact, contact_id)
    assert contact is not None
    try:
        async with session.begin_nested():
            conversation = Conversation(
                workspace_id=channel.workspace_id,
                channel_account_id=channel.id,
                contact_id=contact.id,
                kind=thread.kind,
                thread_key=thread.key,
                subject=thread.subject,
                post_url=thread.post_url,
                status=Status.open,
                last_activity_at=first_at,
                search_document=search.initial_document(contact.name, thread.subject),
            )
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        conversation = await find_conversation(session, channel.id, thread)
        if conversation is None:  # pragma: no cover
            raise
        return conversation, False
    emit(
        session,
        ConversationCreated(
            workspace_id=channel.workspace_id,
            channel_account_id=channel.id,
            conversation_id=conversation.id,
        ),
    )
    return conversation, True


async def find_by_external_id(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> Message | None:
    return (
        await session.execute(
            select(Message).where(
                Message.channel_account_id == channel_account_id, Message.external_id == external_id
            )
        )
    ).scalar_one_or_none()


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
    if incoming.external_id:
        existing = await find_by_external_id(session, channel.id, incoming.external_id)
        if existing is not None:
            return existing, False
    identity = await get_or_create_identity(
        session, workspace_id=channel.workspace_id, channel_account_id=channel.id, info=sender
    )
    conversation, _ = await get_or_create_conversation(
        session, channel, identity.contact_id, thread, first_at=incoming.sent_at
    )
    message = Message(
        workspace_id=channel.workspace_id,
        conversation_id=conversation.id,
        channel_account_id=channel.id,
        direction=Direction.inbound,
        author_type=AuthorType.contact,
        author_contact_id=identity.contact_id,
        text=clean_text(incoming.text),
        attachments=clean_json(incoming.attachments),
        extra=clean_json(incoming.extra),
        external_id=incoming.external_id,
        reply_to_external_id=incoming.reply_to_external_id,
        sent_at=incoming.sent_at,
        status=DeliveryStatus.received,
    )
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        # The same delivery is being processed concurrently and won the race.
        existing = await find_by_external_id(session, channel.id, incoming.external_id or "")
        if existing is None:  # pragma: no cover
            raise
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
