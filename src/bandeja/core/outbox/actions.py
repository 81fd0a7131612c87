"""Replies: checked against the platform's rules, stored with their send job in one transaction,
then sent by a worker (``bandeja.jobs.sender``) that reports back through these actions.

No reply is ever sent twice: a double submission finds its job by idempotency key; a job is held
by one worker at a time (``FOR UPDATE SKIP LOCKED`` + lease); and a job whose worker vanished
mid-send is failed as ``delivery_unknown`` rather than re-sent.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.actions import record
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import Conflict, InvalidInput, NotFound
from bandeja.core.messages.actions import find_by_external_id, record_outbound, set_status
from bandeja.core.messages.models import (
    STATUS_RANK,
    AuthorType,
    DeliveryStatus,
    Direction,
    Message,
)
from bandeja.core.outbox.models import SendJob, SendStatus
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, ReplyRules
from bandeja.core.users.models import User
from bandeja.storage.base import utcnow

MAX_TEXT = 20_000
MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=60)


class ReplyRefused(InvalidInput):
    """The platform's rules refuse this reply; ``code`` names the rule."""


class ReplyCollision(Conflict):
    """Someone replied after the agent's draft began: the agent should read it first.
    ``details["sent"]`` lists those replies (author, text, time)."""

    code = "reply_collision"

    def __init__(self, message: str, sent: Sequence[Mapping[str, object]]) -> None:
        super().__init__(message)
        self.details = {"sent": [dict(s) for s in sent]}


async def _lock_conversation(session: AsyncSession, conversation_id: int) -> None:
    """Replies to one conversation queue one after another: the second of two simultaneous
    submissions then sees the first one's message (send-guard) or its job (idempotency key).
    PostgreSQL locks the row; SQLite's ``BEGIN IMMEDIATE`` already serializes writers."""
    await session.execute(
        select(Conversation.id).where(Conversation.id == conversation_id).with_for_update()
    )


async def check_not_overtaken(
    session: AsyncSession, conversation: Conversation, seen_message_id: int
) -> None:
    """The send-guard: refuse when an outbound message arrived after ``seen_message_id``."""
    if seen_message_id:
        seen = await session.get(Message, seen_message_id)
        if seen is None or seen.conversation_id != conversation.id:
            raise InvalidInput("seen_message_id must be a message of this conversation")
    rows = (
        await session.execute(
            select(Message, User.name)
            .outerjoin(User, User.id == Message.author_user_id)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.outbound,
                Message.id > seen_message_id,
                # A teammate's reply that failed never reached the customer.
                Message.status != DeliveryStatus.failed,
            )
            .order_by(Message.id)
            .limit(5)
        )
    ).all()
    if not rows:
        return
    sent = [
        {
            "message_id": m.id,
            "author_type": m.author_type.value,
            "author_user_id": m.author_user_id,
            "author_name": name,
            "text": m.text,
            "sent_at": m.sent_at.isoformat(),
            "status": m.status.value,
        }
        for m, name in rows
    ]
    who = rows[0][1] or {"bot": "a bot", "external": "the platform's app"}.get(
        rows[0][0].author_type.value, "someone"
    )
    raise ReplyCollision(
        f"{who} replied after your draft began; read it, then send anyway if still needed", sent
    )


async def _identity_of(session: AsyncSession, conversation: Conversation) -> ContactIdentity | None:
    return (
        await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.contact_id == conversation.contact_id,
                ContactIdentity.channel_account_id == conversation.channel_account_id,
            )
        )
    ).scalar_one_or_none()


async def reply_context(
    session: AsyncSession,
    conversation: Conversation,
    channel: ChannelAccount,
    draft: ReplyDraft,
    now: datetime | None = None,
) -> ReplyContext:
    identity = await _identity_of(session, conversation)
    comment_sent_at, already = None, False
    if draft.private_reply_to_message_id is not None:
        comment = await session.get(Message, draft.private_reply_to_message_id)
        if (
            comment is None
            or comment.conversation_id != conversation.id
            or comment.direction is not Direction.inbound
        ):
            raise InvalidInput("private_reply_to must be a customer comment of this conversation")
        if conversation.kind is Kind.dm:
            raise ReplyRefused(
                "private replies answer comments; this is a direct message",
                code="rule:private_reply_not_comment",
            )
        comment_sent_at, already = comment.sent_at, comment.private_replied_at is not None
    return ReplyContext(
        platform=channel.platform,
        kind=conversation.kind,
        draft=draft,
        now=now or utcnow(),
        channel_settings=dict(channel.settings),
        last_inbound_at=conversation.last_inbound_at,
        recipient_accepts_messages=identity.accepts_messages if identity else None,
        comment_sent_at=comment_sent_at,
        comment_already_private_replied=already,
        recipient_marketing_opt_in=identity.marketing_opt_in if identity else None,
    )


@dataclass(frozen=True, slots=True)
class Queued:
    message: Message
    job: SendJob
    created: bool


async def queue_reply(
    session: AsyncSession,
    actor: Actor,
    conversation_id: int,
    draft: ReplyDraft,
    rules: ReplyRules,
    *,
    idempotency_key: str | None = None,
    force: bool = False,
) -> Queued:
    """Check ``draft`` against the platform's rules and the send-guard (unless ``force``) and
    store it with its send job."""
    text = draft.text.strip()
    if not text and draft.template is None:
        raise InvalidInput("a reply needs text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a reply can have at most {MAX_TEXT} characters")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        raise InvalidInput("idempotency_key must have 1 to 100 characters")
    conversation = await get_conversation(session, actor, conversation_id)
    await _lock_conversation(session, conversation.id)
    if idempotency_key:
        job = (
            await session.execute(
                select(SendJob).where(
                    SendJob.workspace_id == actor.workspace_id,
                    SendJob.idempotency_key == idempotency_key,
                )
            )
        ).scalar_one_or_none()
        if job is not None:
            if job.conversation_id != conversation.id:
                raise Conflict("this idempotency_key was used for another conversation")
            message = await session.get(Message, job.message_id)
            assert message is not None
            return Queued(message=message, job=job, created=False)
    if draft.seen_message_id is not None and not force:
        await check_not_overtaken(session, conversation, draft.seen_message_id)
    channel = await session.get(ChannelAccount, conversation.channel_account_id)
    assert channel is not None
    context = await reply_context(session, conversation, channel, draft)
    violations = rules.check_reply(context)
    if violations:
        first = violations[0]
        raise ReplyRefused("; ".join(v.message for v in violations), code=f"rule:{first.code}")
    if not text and draft.template is not None:
        # A template carries its own text on the platform; the thread shows which one was sent.
        params = ", ".join(draft.template.parameters)
        text = f"[template {draft.template.name} ({draft.template.language})]" + (
            f" {params}" if params else ""
        )
    message = await record_outbound(
        session,
        conversation,
        text=text,
        sent_at=context.now,
        author_type=AuthorType.user,
        author_user_id=actor.user_id,
        status=DeliveryStatus.queued,
    )
    if draft.private_reply_to_message_id is not None:
        message.is_private_reply = True
        comment = await session.get(Message, draft.private_reply_to_message_id)
        assert comment is not None
        comment.private_replied_at = context.now
    options: dict[str, object] = {}
    if draft.private_reply_to_message_id is not None:
        options["private_reply_to_message_id"] = draft.private_reply_to_message_id
    if draft.tag:
        options["tag"] = draft.tag
    if draft.template:
        options["template"] = {
            "name": draft.template.name,
            "language": draft.template.language,
            "parameters": list(draft.template.parameters),
        }
    if draft.extra_recipients:
        options["extra_recipients"] = list(draft.extra_recipients)
    job = SendJob(
        workspace_id=actor.workspace_id,
        channel_account_id=channel.id,
        conversation_id=conversation.id,
        message_id=message.id,
        idempotency_key=idempotency_key or f"bdj-{secrets.token_urlsafe(16)}",
        status=SendStatus.pending,
        next_attempt_at=context.now,
        options=options,
    )
    session.add(job)
    await session.flush()
    record(
        session,
        workspace_id=actor.workspace_id,
        conversation_id=conversation.id,
        verb="reply.queued",
        actor_user_id=actor.user_id,
        message_id=message.id,
        private=draft.private_reply_to_message_id is not None,
    )
    return Queued(message=message, job=job, created=True)


async def retry_send(session: AsyncSession, actor: Actor, message_id: int) -> Message:
    """An agent sends a failed reply again (after reading why it failed)."""
    message = await session.get(Message, message_id)
    if message is None or message.workspace_id != actor.workspace_id:
        raise NotFound(f"message {message_id} not found")
    await get_conversation(session, actor, message.conversation_id)  # visibility
    job = (
        await session.execute(select(SendJob).where(SendJob.message_id == message.id))
    ).scalar_one_or_none()
    if job is None or job.status is not SendStatus.failed:
        raise Conflict("only a failed reply can be retried")
    job.status, job.attempts, job.next_attempt_at = SendStatus.pending, 0, utcnow()
    job.lease_until, job.last_error = None, None
    set_status(session, message, DeliveryStatus.queued, force=True, error=(None, None))
    record(
        session,
        workspace_id=actor.workspace_id,
        conversation_id=message.conversation_id,
        verb="reply.retried",
        actor_user_id=actor.user_id,
        message_id=message.id,
    )
    return message


# --- the worker's side -------------------------------------------------------------------------


async def claim_due(
    session: AsyncSession, *, limit: int = 20, now: datetime | None = None
) -> list[SendJob]:
    """Take due jobs for this worker (other workers skip them) and lease them."""
    now = now or utcnow()
    jobs = (
        (
            await session.execute(
                select(SendJob)
                .where(SendJob.status == SendStatus.pending, SendJob.next_attempt_at <= now)
                .order_by(SendJob.next_attempt_at, SendJob.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for job in jobs:
        job.status, job.lease_until, job.attempts = (
            SendStatus.sending,
            now + LEASE,
            job.attempts + 1,
        )
    return list(jobs)


async def mark_sent(
    session: AsyncSession, job: SendJob, external_id: str | None, *, at: datetime | None = None
) -> None:
    message = await session.get(Message, job.message_id)
    assert message is not None
    job.status, job.lease_until, job.last_error = SendStatus.done, None, None
    if external_id and message.external_id is None:
        await _absorb_early_echo(session, message, external_id)
        message.external_id = external_id
    set_status(session, message, DeliveryStatus.sent)
    record(
        session,
        workspace_id=job.workspace_id,
        conversation_id=job.conversation_id,
        verb="reply.sent",
        actor_user_id=None,
        message_id=message.id,
        attempts=job.attempts,
    )


async def _absorb_early_echo(session: AsyncSession, message: Message, external_id: str) -> None:
    """The platform's echo of this reply may have arrived before the send's answer, and with a
    text the platform rewrote (shortened links): it was then stored as a message sent from the
    native app. It is the same message: keep ours, drop the copy."""
    echo = await find_by_external_id(session, message.channel_account_id, external_id)
    if echo is None or echo.id == message.id:
        return
    if echo.direction is not Direction.outbound or echo.author_type is not AuthorType.external:
        return
    conversation = await session.get(Conversation, echo.conversation_id)
    if conversation is not None:
        conversation.message_count = max(conversation.message_count - 1, 0)
    if STATUS_RANK[echo.status] > STATUS_RANK[message.status]:
        message.status = echo.status
    await session.delete(echo)
    await session.flush()


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with jitter (2, 4, 8 … 300 s); a platform's Retry-After wins."""
    if retry_after is not None:
        return timedelta(seconds=min(max(retry_after, 0.0), 3600.0))
    base = min(2.0**attempts, 300.0)
    return timedelta(seconds=base * (0.5 + random.random() / 2))


async def mark_retry(
    session: AsyncSession,
    job: SendJob,
    *,
    code: str,
    message_text: str,
    retry_after: float | None = None,
    now: datetime | None = None,
) -> bool:
    """A transient failure: try again later, or fail for good after ``MAX_ATTEMPTS``.
    Returns True when another attempt is scheduled."""
    if job.attempts >= MAX_ATTEMPTS:
        await mark_failed(session, job, code=code, message_text=message_text)
        return False
    now = now or utcnow()
    job.status, job.lease_until = SendStatus.pending, None
    job.next_attempt_at = now + backoff(job.attempts, retry_after)
    job.last_error = f"{code}: {message_text}"
    return True


async def mark_failed(session: AsyncSession, job: SendJob, *, code: str, message_text: str) -> None:
    message = await session.get(Message, job.message_id)
    assert message is not None
    job.status, job.lease_until, job.last_error = SendStatus.failed, None, f"{code}: {message_text}"
    set_status(session, message, DeliveryStatus.failed, error=(code, message_text))
    record(
        session,
        workspace_id=job.workspace_id,
        conversation_id=job.conversation_id,
        verb="reply.failed",
        actor_user_id=None,
        message_id=message.id,
        error_code=code,
        error_message=message_text,
    )


async def expire_leases(session: AsyncSession, now: datetime | None = None) -> int:
    """Jobs whose worker stopped mid-send: the platform may have the message, so never resend
    them blindly; fail them with ``delivery_unknown`` for an agent to check and retry."""
    now = now or utcnow()
    stale = (
        (
            await session.execute(
                select(SendJob)
                .where(SendJob.status == SendStatus.sending, SendJob.lease_until < now)
                .limit(100)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for job in stale:
        await mark_failed(
            session,
            job,
            code="delivery_unknown",
            message_text="the sender stopped while sending; check the conversation on the "
            "platform before retrying",
        )
    return len(stale)
