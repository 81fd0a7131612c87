"""An X channel account (the fixtures' account, @cafeaurora), deliveries signed as X signs them,
and reads of the inbox through the core's queries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.x  # noqa: F401
from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent, SimPerson
from bandeja.channels.x.fake import FAKE, XFake
from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.contacts.queries import contact_detail
from bandeja.core.contacts.schemas import ContactDetail
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.conversations.queries import conversation_detail
from bandeja.core.conversations.schemas import ConversationDetail
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.models import Message
from bandeja.core.messages.queries import list_messages
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox.models import SendJob
from bandeja.core.users.models import Role
from tests.support.webhooks import deliver, fixture

ME = "1587346721094627328"  # @cafeaurora, the account of every fixture (for_user_id)
CONSUMER_SECRET = "kQ7vXc2Lr9TzW4mYp1Hs8Nd3Bf6Gj0Ue5Aa2Ss9Dd4Ff7Gg"
ACCESS_TOKEN = "bWpUX3Rva2VuLWNhZmVhdXJvcmEtb2F1dGgyLXVzZXItY29udGV4dA"
# The fixtures' people.
LUCIA = SimPerson(
    id="1298455672871034881", name="Lucía Fernández", handle="luciafdz", language="es"
)
GIULIA = SimPerson(
    id="1423987120054566913",
    name="Giulia Bianchi",
    handle="giulia_bianchi",
    language="it",
    accepts_dms=False,
)
TOM = SimPerson(id="884213377", name="Tom Harris", handle="tomharris_uk", language="en")
MARCO = SimPerson(id="1544879011234451457", name="Marco Rossi", handle="marcorossi", language="it")


def signature(body: bytes, secret: str = CONSUMER_SECRET) -> str:
    """Written out here rather than imported, so that the connector is checked against X's rule."""
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class X:
    channel: ChannelAccount
    actor: Actor
    headers: dict[str, str]
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient

    @property
    def webhook_url(self) -> str:
        return f"http://testserver/webhooks/x/{self.channel.id}"

    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=Platform.x,
            external_id=ME,
            name=self.channel.name,
            secrets={"signing_secret": CONSUMER_SECRET, "access_token": ACCESS_TOKEN},
            webhook_url=self.webhook_url,
        )

    async def deliver(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"x-twitter-webhooks-signature": signature(body)} if headers is None else headers
        return await deliver(self.client, "x", self.channel.id, body, sent)

    async def deliver_fixture(self, name: str) -> httpx.Response:
        response = await self.deliver(fixture("x", name))
        assert response.status_code == 200, response.text
        return response

    async def emit(self, event: SimEvent, fake: XFake = FAKE) -> int:
        """Deliver what the sandbox's X sends for ``event`` (fake → webhook route)."""
        deliveries = fake.deliveries(self.sandbox_channel(), event)
        for delivery in deliveries:
            response = await self.client.post(
                delivery.url, content=delivery.body, headers=delivery.headers
            )
            assert response.status_code == 200, response.text
        return len(deliveries)

    # --- reads through the core's queries ---------------------------------------------------

    async def conversations(self) -> list[Conversation]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Conversation)
                .where(Conversation.channel_account_id == self.channel.id)
                .order_by(Conversation.id)
            )
            return list(rows.scalars())

    async def conversation(self, key: str, kind: Kind | None = None) -> ConversationDetail:
        async with self.sessions() as session:
            stmt = select(Conversation.id).where(
                Conversation.channel_account_id == self.channel.id, Conversation.thread_key == key
            )
            if kind is not None:
                stmt = stmt.where(Conversation.kind == kind)
            found = (await session.execute(stmt)).scalar_one()
            return await conversation_detail(session, self.actor, found)

    async def thread(self, key: str) -> list[MessageOut]:
        """The messages of the conversation with thread key ``key``, oldest first."""
        conversation = await self.conversation(key)
        async with self.sessions() as session:
            page = await list_messages(session, self.actor, conversation.id, limit=200)
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

    async def contact(self, user_id: str) -> ContactDetail:
        async with self.sessions() as session:
            identity = await self.identity(user_id, session)
            return await contact_detail(session, self.actor, identity.contact_id)

    async def identity(self, user_id: str, session: AsyncSession | None = None) -> ContactIdentity:
        if session is None:
            async with self.sessions() as own:
                return await self.identity(user_id, own)
        return (
            await session.execute(
                select(ContactIdentity).where(
                    ContactIdentity.channel_account_id == self.channel.id,
                    ContactIdentity.external_id == user_id,
                )
            )
        ).scalar_one()

    async def ignored(self) -> dict[str, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(IgnoredCount.reason, IgnoredCount.n).where(
                    IgnoredCount.channel_account_id == self.channel.id
                )
            )
            return {str(row[0]): int(row[1]) for row in rows}

    async def raw_events(self) -> list[RawEvent]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(RawEvent)
                .where(RawEvent.channel_account_id == self.channel.id)
                .order_by(RawEvent.id)
            )
            return list(rows.scalars())

    async def failed_raw_events(self) -> list[RawEvent]:
        return [r for r in await self.raw_events() if r.status is RawEventStatus.failed]

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
async def x(db, factory, client, sessions) -> X:
    ws = await factory.workspace()
    owner, actor = await factory.user(ws, Role.owner)
    channel = await factory.channel(
        ws,
        Platform.x,
        external_id=ME,
        name="Cafeaurora Madrid",
        credentials={"signing_secret": CONSUMER_SECRET, "access_token": ACCESS_TOKEN},
    )
    token = await factory.token(ws, owner)
    await db.commit()
    return X(
        channel=channel,
        actor=actor,
        headers={"Authorization": f"Bearer {token}"},
        sessions=sessions,
        client=client,
    )


@pytest.fixture
def sandbox(x: X, workers):
    """The in-process sandbox of ``workers``, playing X for ``x``'s channel."""
    state = workers.sandbox
    state.add_channel(x.sandbox_channel())
    for person in (LUCIA, GIULIA, TOM, MARCO):
        state.add_person(Platform.x, person)
    return state
