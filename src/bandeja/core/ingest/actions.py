"""Ingest: store verified deliveries durably, then apply what they say through the core.

``record_raw_event`` stores a delivery through a session (the webhook route stores it with one
prebuilt statement instead: ``recorder.py``). ``apply_event`` runs in the ingest worker; each
platform event is idempotent and independent of the order in which deliveries arrive. The worker
applies a batch without autoflush: an event whose queries read what an earlier event may have
changed in the session flushes first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from bandeja.core.channels.models import ChannelAccount
from bandeja.core.contacts.actions import get_or_create_identity, identify
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations import search
from bandeja.core.conversations.models import Conversation
from bandeja.core.events import MessageChanged, emit
from bandeja.core.ingest import types as ev
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.actions import (
    IncomingMessage,
    find_by_external_id,
    find_conversation,
    get_or_create_conversation,
    receive_message,
    record_outbound,
    set_status,
)
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction, Message
from bandeja.core.outbox.models import SendJob, SendStatus
from bandeja.core.text import clean_text
from bandeja.storage.base import utcnow
from bandeja.storage.upsert import dialect_insert, insert_ignore

# Headers worth keeping with a raw event (for replay and debugging); never cookies or auth.
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-hub-signature-256",
    "x-twitter-webhooks-signature",
    "x-li-signature",
    "x-request-id",
)
# An echo with no id or metadata we know is matched to a reply of the same text sent this recently.
ECHO_MATCH_WINDOW = timedelta(minutes=10)


async def record_raw_event(
    session: AsyncSession,
    *,
    channel_account_id: int,
    workspace_id: int,
    platform: str,
    body: bytes,
    headers: Mapping[str, str],
) -> int | None:
    """Store a verified delivery; returns its id, or None when the same body was stored before."""
    values = {
        "workspace_id": workspace_id,
        "channel_account_id": channel_account_id,
        "platform": platform,
        "dedupe_key": hashlib.sha256(body).hexdigest(),
        "headers": {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
        "body": body,
        "received_at": utcnow(),
        "status": RawEventStatus.pending.value,
        "attempts": 0,
    }
    stmt = insert_ignore(
        session.get_bind().dialect.name,
        RawEvent.__table__,
        values,
        ["channel_account_id", "dedupe_key"],
    ).returning(RawEvent.__table__.c.id)
    inserted: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return inserted


async def count_ignored(session: AsyncSession, channel_account_id: int, reason: str) -> None:
    table = IgnoredCount.__table__
    stmt = dialect_insert(session.get_bind().dialect.name, table).values(
        channel_account_id=channel_account_id, reason=reason[:100], n=1, last_at=utcnow()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["channel_account_id", "reason"],
            set_={"n": table.c.n + 1, "last_at": stmt.excluded.last_at},
        )
    )


def _apply_reaction(session: AsyncSession, message: Message, event: ev.ReactionChanged) -> None:
    """A person's latest reaction wins, by platform time: an "unreact" that overtakes its
    "react" must not be undone by it. The times are kept in ``extra["reaction_times"]``."""
    times = dict(message.extra.get("reaction_times", {}))
    previous = times.get(event.person_external_id)
    if previous is not None and datetime.fromisoformat(previous) > event.at:
        return
    times[event.person_external_id] = event.at.isoformat()
    reactions = dict(message.reactions)
    if event.reaction:
        reactions[event.person_external_id] = event.reaction
    else:
        reactions.pop(event.person_external_id, None)
    message.extra = {**message.extra, "reaction_times": times}
    if reactions != message.reactions:
        message.reactions = reactions
        _changed(session, message, {"reactions": reactions})


def _changed(session: AsyncSession, message: Message, changes: dict[str, object]) -> None:
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


async def _match_echo(
    session: AsyncSession, channel: ChannelAccount, echo: ev.EchoReceived
) -> Message | None:
    """Find the reply an echo is about: by platform id, by the metadata Bandeja sent with it
    (``bandeja:<idempotency key>``), or by the same text queued or sent moments ago."""
    found = await find_by_external_id(session, channel.id, echo.external_id)
    if found is not None:
        return found
    if echo.metadata and echo.metadata.startswith("bandeja:"):
        key = echo.metadata.removeprefix("bandeja:")
        job = (
            await session.execute(
                select(SendJob).where(
                    SendJob.workspace_id == channel.workspace_id, SendJob.idempotency_key == key
                )
            )
        ).scalar_one_or_none()
        if job is not None:
            return await session.get(Message, job.message_id)
    conversation = await find_conversation(session, channel.id, echo.thread)
    if conversation is None:
        return None
    return (
        await session.execute(
            select(Message)
            .join(SendJob, SendJob.message_id == Message.id)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.outbound,
                Message.external_id.is_(None),
                Message.text == echo.text,
                Message.created_at >= echo.sent_at - ECHO_MATCH_WINDOW,
                SendJob.status.in_([SendStatus.sending, SendStatus.done, SendStatus.pending]),
            )
            .order_by(Message.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def _apply_echo(
    session: AsyncSession, channel: ChannelAccount, echo: ev.EchoReceived
) -> None:
    # The match reads the platform ids and statuses of replies, which an earlier event of the
    # batch may have changed (the ingest worker applies a batch without autoflush).
    await session.flush()
    mine = await _match_echo(session, channel, echo)
    if mine is not None:
        if mine.external_id is None:
            mine.external_id = echo.external_id
        set_status(session, mine, DeliveryStatus.sent)
        return
    # Sent from the platform's own app: keep it, so the thread shows what the customer saw.
    if echo.recipient is None:
        conversation = await find_conversation(session, channel.id, echo.thread)
        if conversation is None:
            await count_ignored(session, channel.id, "echo_without_thread")
            return
    else:
        identity, contact = await identify(
            session,
            workspace_id=channel.workspace_id,
            channel_account_id=channel.id,
            info=echo.recipient,
        )
        conversation, _ = await get_or_create_conversation(
            session,
            channel,
            identity.contact_id,
            echo.thread,
            first_at=echo.sent_at,
            new_contact=contact,
        )
    await record_outbound(
        session,
        conversation,
        text=echo.text,
        sent_at=echo.sent_at,
        author_type=AuthorType.external,
        status=DeliveryStatus.sent,
        external_id=echo.external_id,
        attachments=echo.attachments,
    )


async def _apply_read_up_to(
    session: AsyncSession, channel: ChannelAccount, read: ev.ReadUpTo
) -> None:
    status = DeliveryStatus(read.status)
    await session.flush()  # the statuses an earlier event of the batch changed (see _apply_echo)
    rows = (
        (
            await session.execute(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(
                    Message.channel_account_id == channel.id,
                    Message.direction == Direction.outbound,
                    Message.sent_at <= read.watermark,
                    Message.status.in_([DeliveryStatus.sent, DeliveryStatus.delivered]),
                    Conversation.contact_id.in_(
                        _contact_ids_of(channel.id, read.person_external_id)
                    ),
                )
                .limit(500)
            )
        )
        .scalars()
        .all()
    )
    for message in rows:
        set_status(session, message, status)


def _contact_ids_of(channel_account_id: int, external_id: str) -> ScalarSelect[int]:
    return (
        select(ContactIdentity.contact_id)
        .where(
            ContactIdentity.channel_account_id == channel_account_id,
            ContactIdentity.external_id == external_id,
        )
        .scalar_subquery()
    )


class NotYetKnown(Exception):
    """An event about a message Bandeja has not stored yet (a status that overtook the send's
    answer, a delete that overtook the message): the delivery is retried a little later."""


async def _message(
    session: AsyncSession,
    channel: ChannelAccount,
    external_id: str,
    reason: str,
    *,
    defer: bool,
) -> Message | None:
    message = await find_by_external_id(session, channel.id, external_id)
    if message is None:
        if defer:
            raise NotYetKnown(f"{reason}: {external_id}")
        await count_ignored(session, channel.id, reason)
    return message


async def apply_event(
    session: AsyncSession,
    channel: ChannelAccount,
    event: ev.PlatformEvent,
    *,
    defer_unknown: bool = False,
) -> None:
    """Apply one platform event. Safe to repeat, and to receive out of order: with
    ``defer_unknown``, an event about a message not stored yet raises :class:`NotYetKnown` so
    that the delivery is tried again later; without it, such an event is counted and dropped."""
    match event:
        case ev.MessageReceived():
            await receive_message(session, channel, event.sender, event.thread, _incoming(event))
        case ev.EchoReceived():
            await _apply_echo(session, channel, event)
        case ev.StatusChanged():
            message = await _message(
                session, channel, event.external_id, "status_unknown_message", defer=defer_unknown
            )
            if message is not None:
                error = (
                    (event.error_code, event.error_message) if event.status == "failed" else None
                )
                set_status(session, message, DeliveryStatus(event.status), error=error)
        case ev.ReadUpTo():
            await _apply_read_up_to(session, channel, event)
        case ev.ReactionChanged():
            message = await _message(
                session, channel, event.external_id, "reaction_unknown_message", defer=defer_unknown
            )
            if message is not None:
                _apply_reaction(session, message, event)
        case ev.MessageEdited():
            message = await _message(
                session, channel, event.external_id, "edit_unknown_message", defer=defer_unknown
            )
            if message is not None and (message.edited_at is None or event.at > message.edited_at):
                message.text, message.edited_at = clean_text(event.text), event.at
                conversation = await session.get(Conversation, message.conversation_id)
                assert conversation is not None
                conversation.search_document = search.append(
                    conversation.search_document, event.text
                )
                _changed(session, message, {"text": event.text, "edited_at": event.at.isoformat()})
        case ev.MessageDeleted():
            message = await _message(
                session, channel, event.external_id, "delete_unknown_message", defer=defer_unknown
            )
            if message is not None and message.deleted_at is None:
                # The person took it back: keep that it existed, not what it said.
                message.deleted_at, message.text, message.attachments = event.at, "", []
                _changed(session, message, {"deleted_at": event.at.isoformat(), "text": ""})
        case ev.CommentHidden():
            message = await _message(
                session, channel, event.external_id, "hide_unknown_message", defer=defer_unknown
            )
            if message is not None:
                hidden_at = event.at if event.hidden else None
                if message.hidden_at != hidden_at:
                    message.hidden_at = hidden_at
                    _changed(session, message, {"hidden": event.hidden})
        case ev.MarketingPreference():
            identity = await get_or_create_identity(
                session,
                workspace_id=channel.workspace_id,
                channel_account_id=channel.id,
                info=event.person,
            )
            if identity.marketing_updated_at is None or event.at >= identity.marketing_updated_at:
                identity.marketing_opt_in, identity.marketing_updated_at = event.opted_in, event.at
        case ev.Ignored():
            await count_ignored(session, channel.id, event.reason)


def _incoming(event: ev.MessageReceived) -> IncomingMessage:
    return IncomingMessage(
        external_id=event.external_id,
        text=event.text,
        sent_at=event.sent_at,
        attachments=event.attachments,
        reply_to_external_id=event.reply_to_external_id,
        extra=event.extra,
    )


async def claim_pending(
    session: AsyncSession, *, limit: int = 100, now: datetime | None = None
) -> list[RawEvent]:
    """The oldest due pending deliveries, locked for this worker (others skip them)."""
    now = now or utcnow()
    rows = await session.execute(
        select(RawEvent)
        .where(
            RawEvent.status == RawEventStatus.pending,
            or_(RawEvent.retry_at.is_(None), RawEvent.retry_at <= now),
        )
        .order_by(RawEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars())


def mark_processed(raw: RawEvent, now: datetime | None = None) -> None:
    raw.status, raw.processed_at, raw.error = RawEventStatus.processed, now or utcnow(), None
    raw.attempts += 1


# Waits before retrying a delivery about a message not stored yet: about ten minutes in all.
DEFER_STEPS_S = (5, 15, 45, 135, 405)


def may_defer(raw: RawEvent) -> bool:
    return raw.attempts < len(DEFER_STEPS_S)


def mark_deferred(raw: RawEvent, reason: str, now: datetime | None = None) -> None:
    raw.retry_at = (now or utcnow()) + timedelta(seconds=DEFER_STEPS_S[raw.attempts])
    raw.attempts += 1
    raw.error = f"waiting: {reason}"[:4000]


async def stop_waiting(session: AsyncSession) -> int:
    """Deliveries waiting for a message that never came are processed now, for the last time
    (what the passing of time does; used by tests and ``bandeja events replay --now``)."""
    result = await session.execute(
        update(RawEvent)
        .where(RawEvent.status == RawEventStatus.pending, RawEvent.retry_at.is_not(None))
        .values(retry_at=None, attempts=len(DEFER_STEPS_S))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_failed(raw: RawEvent, error: str) -> None:
    raw.status, raw.error = RawEventStatus.failed, error[:4000]
    raw.attempts += 1


async def requeue(
    session: AsyncSession, *, ids: list[int] | None = None, failed_only: bool = True
) -> int:
    """Put stored deliveries back in the queue (``bandeja events replay``)."""
    stmt = update(RawEvent).values(status=RawEventStatus.pending, retry_at=None)
    if ids:
        stmt = stmt.where(RawEvent.id.in_(ids))
    if failed_only:
        stmt = stmt.where(RawEvent.status == RawEventStatus.failed)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def touch_channel(
    session: AsyncSession, channel: ChannelAccount, *, error: str | None = None
) -> None:
    """Channel health: when it last received an event, and its last error."""
    now = utcnow()
    channel.last_event_at = now
    if error is not None:
        channel.last_error, channel.last_error_at = error[:2000], now
