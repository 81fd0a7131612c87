"""The send worker: the outbox → the platforms.

A job is leased in one short transaction, sent outside any transaction (no database lock is held
during a slow HTTP call), and its outcome recorded in another. Transient failures retry with
backoff (``Retry-After`` honoured); a failure that may have delivered the message is never
retried automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.channels.base import SendError, SendRequest, SendResult
from bandeja.channels.config import channel_config
from bandeja.channels.registry import connector_for
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.conversations.models import Conversation
from bandeja.core.messages.models import Direction, Message
from bandeja.core.outbox import actions as outbox
from bandeja.core.outbox.models import SendJob
from bandeja.core.outbox.types import Template
from bandeja.core.security import SecretBox

log = logging.getLogger(__name__)


async def _request(session: AsyncSession, job: SendJob) -> tuple[ChannelAccount, SendRequest]:
    message = await session.get(Message, job.message_id)
    conversation = await session.get(Conversation, job.conversation_id)
    channel = await session.get(ChannelAccount, job.channel_account_id)
    if message is None or conversation is None or channel is None:
        raise LookupError(f"send job {job.id} refers to a deleted message or channel")
    identity = (
        await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.contact_id == conversation.contact_id,
                ContactIdentity.channel_account_id == channel.id,
            )
        )
    ).scalar_one_or_none()
    # Comments and mentions are answered in reply to the customer's latest message there.
    reply_to = (
        await session.execute(
            select(Message.external_id)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.inbound,
                Message.external_id.is_not(None),
            )
            .order_by(Message.sent_at.desc(), Message.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    private_to = None
    if "private_reply_to_message_id" in job.options:
        comment = await session.get(Message, int(job.options["private_reply_to_message_id"]))
        private_to = comment.external_id if comment else None
    template = job.options.get("template")
    request = SendRequest(
        message_id=message.id,
        idempotency_key=job.idempotency_key,
        text=message.text,
        kind=conversation.kind,
        thread_key=conversation.thread_key,
        recipient_id=identity.external_id if identity else conversation.thread_key,
        attachments=list(message.attachments),
        reply_to_external_id=reply_to,
        private_reply_to_external_id=private_to,
        tag=job.options.get("tag"),
        template=Template(**template) if template else None,
        extra_recipients=list(job.options.get("extra_recipients", [])),
    )
    return channel, request


class SendWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        client: httpx.AsyncClient,
        *,
        batch: int = 20,
        concurrency: int = 8,
        idle_s: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.client = client
        self.batch = batch
        self.idle_s = idle_s
        self.wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)

    async def _send(self, job_id: int) -> None:
        async with self._slots, self.sessions() as session:
            job = await session.get(SendJob, job_id)
            assert job is not None
            channel, request = await _request(session, job)
            config = channel_config(channel, self.box)
            await session.commit()  # hold no transaction during the HTTP call
            outcome: SendResult | SendError
            try:
                outcome = await connector_for(channel.platform).send(self.client, config, request)
            except SendError as exc:
                outcome = exc
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left: safe to try again.
                outcome = SendError(
                    "connect_failed", str(exc) or type(exc).__name__, retryable=True
                )
            except httpx.HTTPError as exc:
                outcome = SendError(
                    "delivery_unknown",
                    f"{type(exc).__name__} after sending; check the platform before retrying",
                    ambiguous=True,
                )
            job = await session.get(SendJob, job_id)
            assert job is not None
            if isinstance(outcome, SendResult):
                await outbox.mark_sent(session, job, outcome.external_id)
            elif outcome.retryable and not outcome.ambiguous:
                await outbox.mark_retry(
                    session,
                    job,
                    code=outcome.code,
                    message_text=outcome.message,
                    retry_after=outcome.retry_after,
                )
            else:
                await outbox.mark_failed(
                    session, job, code=outcome.code, message_text=outcome.message
                )
            await session.commit()

    async def run_once(self) -> int:
        async with self.sessions() as session:
            await outbox.expire_leases(session)
            jobs = await outbox.claim_due(session, limit=self.batch)
            ids = [job.id for job in jobs]
            await session.commit()
        results = await asyncio.gather(*(self._send(i) for i in ids), return_exceptions=True)
        for job_id, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                # Left leased: the lease expiry fails it as delivery_unknown, never re-sends it.
                log.error("send job %s crashed: %r", job_id, result)
        return len(ids)

    async def run(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("send batch failed")
                handled = 0
            if handled < self.batch:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_s)
