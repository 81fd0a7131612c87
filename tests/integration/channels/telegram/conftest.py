"""A Telegram bot channel account, updates delivered with its secret token, the in-process
sandbox playing the Bot API, and reads of the inbox through the core's queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.telegram  # noqa: F401
from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent, SimPerson
from bandeja.channels.telegram.fake import FAKE
from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.contacts.queries import contact_detail
from bandeja.core.contacts.schemas import ContactDetail
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.models import Message
from bandeja.core.messages.queries import messages_page
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox.models import SendJob
from bandeja.core.users.models import Role
from bandeja.core.workspaces.models import Workspace
from tests.support.webhooks import deliver, fixture

BOT_ID = "7012345678"  # the fixtures' bot (@CafeAuroraBot)
BOT_NAME = "@CafeAuroraBot"
SECRET_TOKEN = "bdj-tg-Wq81_zP0xVb3"
BOT_TOKEN = "7012345678:AAHf3kQe9Xw2bS7pLm4TnR8vYc1DzJ0uKoE"
GROUP_ID = "-1001876543210"  # the fixtures' supergroup
# The fixtures' people (their Telegram user ids are their private chat ids).
LUCIA = SimPerson(id="5219876543", name="Lucía Fernández", handle="lucia_fdez", language="es")
MARCO = SimPerson(id="6123456789", name="Marco Rossi", handle="marcorossi", language="it")
EMMA = SimPerson(id="4876543210", name="Emma Clarke", handle="", language="en")


@dataclass
class Telegram:
    channel: ChannelAccount
    actor: Actor
    headers: dict[str, str]
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient

    @property
    def webhook_url(self) -> str:
        return f"http://testserver/webhooks/telegram/{self.channel.id}"

    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=Platform.telegram,
            external_id=BOT_ID,
            name=self.channel.name,
            secrets={"signing_secret": SECRET_TOKEN, "access_token": BOT_TOKEN},
            webhook_url=self.webhook_url,
        )

    async def deliver(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN} if headers is None else headers
        return await deliver(self.client, "telegram", self.channel.id, body, sent)

    async def deliver_fixture(self, name: str) -> httpx.Response:
        response = await self.deliver(fixture("telegram", name))
        assert response.status_code == 200, response.text
        return response

    async def emit(self, event: SimEvent) -> int:
        """Deliver what the sandbox's Telegram sends for ``event`` (fake → webhook route)."""
        deliveries = FAKE.deliveries(self.sandbox_channel(), event)
        for delivery in deliveries:
            response = await self.client.post(
                delivery.url, content=delivery.body, headers=delivery.headers
            )
            assert response.status_code == 200, response.text
        return len(deliveries)

    # --- reads ------------------------------------------------------------------------------

    async def conversations(self) -> list[Conversation]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Conversation)
                .where(Conversation.channel_account_id == self.channel.id)
                .order_by(Conversation.id)
            )
            return list(rows.scalars())

    async def conversation(self, thread_key: str, kind: Kind = Kind.dm) -> Conversation:
        async with self.sessions() as session:
            return (
                await session.execute(
                    select(Conversation).where(
                        Conversation.channel_account_id == self.channel.id,
                        Conversation.kind == kind,
                        Conversation.thread_key == thread_key,
                    )
                )
            ).scalar_one()

    async def thread(self, thread_key: str, kind: Kind = Kind.dm) -> list[MessageOut]:
        """The messages of one conversation, oldest first (core query)."""
        conversation = await self.conversation(thread_key, kind)
        async with self.sessions() as session:
            page = await messages_page(session, conversation.id, before=None, limit=200)
            return list(reversed(page.items))

    async def messages(self) -> list[MessageOut]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message)
                .where(Message.channel_account_id == self.channel.id)
                .order_by(Message.sent_at, Message.id)
            )
            return [MessageOut.model_validate(m) for m in rows.scalars()]

    async def message(self, message_id: int) -> MessageOut:
        async with self.sessions() as session:
            found = await session.get(Message, message_id)
            assert found is not None
            return MessageOut.model_validate(found)

    async def extra_of(self, message_id: int) -> dict[str, Any]:
        """What the platform said beyond the text (``Message.extra``, not in the API's shape)."""
        async with self.sessions() as session:
            found = await session.get(Message, message_id)
            assert found is not None
            return dict(found.extra)

    async def retry_waiting(self) -> int:
        """Make deliveries that wait for a message not stored yet due now (instead of waiting
        the worker's seconds-long backoff); returns how many."""
        async with self.sessions() as session:
            result = await session.execute(
                update(RawEvent)
                .where(
                    RawEvent.channel_account_id == self.channel.id,
                    RawEvent.status == RawEventStatus.pending,
                    RawEvent.retry_at.is_not(None),
                )
                .values(retry_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await session.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def contact(self, user_id: str) -> ContactDetail:
        async with self.sessions() as session:
            identity = (
                await session.execute(
                    select(ContactIdentity).where(
                        ContactIdentity.channel_account_id == self.channel.id,
                        ContactIdentity.external_id == user_id,
                    )
                )
            ).scalar_one()
            return await contact_detail(session, self.actor, identity.contact_id)

    async def ignored(self) -> dict[str, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(IgnoredCount.reason, IgnoredCount.n).where(
                    IgnoredCount.channel_account_id == self.channel.id
                )
            )
            return {reason: n for reason, n in rows}  # noqa: C416 - Rows, not pairs

    async def raw_events(self) -> list[RawEvent]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(RawEvent)
                .where(RawEvent.channel_account_id == self.channel.id)
                .order_by(RawEvent.id)
            )
            return list(rows.scalars())

    async def job(self, message_id: int) -> SendJob:
        async with self.sessions() as session:
            return (
                await session.execute(select(SendJob).where(SendJob.message_id == message_id))
            ).scalar_one()

    async def reply(self, conversation_id: int, **body: object) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=self.headers
        )


@pytest.fixture
async def tg(db, factory, client, sessions) -> Telegram:
    """A Telegram bot channel account (the fixtures' bot) and an owner's view of it."""
    ws = await factory.workspace()
    channel = await factory.channel(
        ws,
        Platform.telegram,
        external_id=BOT_ID,
        name=BOT_NAME,
        credentials={"signing_secret": SECRET_TOKEN, "access_token": BOT_TOKEN},
    )
    await db.commit()
    # Reads through the core's queries need an actor, not a stored user (whose Argon2 hash
    # would cost a third of a second per test).
    actor = Actor(user_id=0, workspace_id=ws.id, role=Role.owner, name="tests")
    return Telegram(channel=channel, actor=actor, headers={}, sessions=sessions, client=client)


@pytest.fixture
async def api(tg: Telegram, db, factory) -> Telegram:
    """``tg`` with an owner's API token, for the JSON API."""
    ws = await db.get(Workspace, tg.channel.workspace_id)
    owner, actor = await factory.user(ws, Role.owner)
    token = await factory.token(ws, owner)
    await db.commit()
    tg.actor, tg.headers = actor, {"Authorization": f"Bearer {token}"}
    return tg


@pytest.fixture
def sandbox(tg: Telegram, workers):
    """The in-process sandbox of ``workers``, playing the Bot API for ``tg``'s bot; the
    fixtures' people have pressed Start (written to the bot)."""
    state = workers.sandbox
    state.add_channel(tg.sandbox_channel())
    for person in (LUCIA, MARCO, EMMA):
        state.add_person(Platform.telegram, person)
        state.wrote(tg.sandbox_channel(), person.id, datetime(2025, 12, 7, 10, tzinfo=UTC))
    return state


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
