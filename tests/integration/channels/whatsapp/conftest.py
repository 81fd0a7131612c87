"""A WhatsApp channel account, deliveries signed as Meta signs them, and reads of the inbox through
the core's queries."""

from __future__ import annotations

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
import bandeja.channels.whatsapp  # noqa: F401
from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent, SimPerson
from bandeja.channels.whatsapp.fake import FAKE
from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.contacts.queries import contact_detail
from bandeja.core.contacts.schemas import ContactDetail
from bandeja.core.conversations.models import Conversation
from bandeja.core.ingest.models import IgnoredCount, RawEvent
from bandeja.core.messages.models import Message
from bandeja.core.messages.queries import messages_page
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox.models import SendJob
from bandeja.core.users.models import Role
from bandeja.core.workspaces.models import Workspace
from tests.support.webhooks import deliver, fixture

PHONE_ID = "114275881627340"  # the fixtures' value.metadata.phone_number_id
APP_SECRET = "6f1c0e2a9b7d4c3e8a5f2b1d0c9e8f7a"
VERIFY_TOKEN = "bandeja-verify-5Jq8"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBO7wWhatsAppTestToken"
LUCIA = SimPerson(id="34612345678", name="Lucía Fernández", handle="34612345678", language="es")
OLIVER = SimPerson(id="447700900123", name="Oliver Bennett", handle="447700900123", language="en")
GIULIA = SimPerson(id="393471234567", name="Giulia Ferrari", handle="393471234567", language="it")


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WhatsApp:
    channel: ChannelAccount
    actor: Actor
    headers: dict[str, str]
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient

    @property
    def webhook_url(self) -> str:
        return f"http://testserver/webhooks/whatsapp/{self.channel.id}"

    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=Platform.whatsapp,
            external_id=PHONE_ID,
            name=self.channel.name,
            secrets={
                "signing_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "access_token": ACCESS_TOKEN,
            },
            webhook_url=self.webhook_url,
        )

    async def deliver(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"X-Hub-Signature-256": signature(body)} if headers is None else headers
        return await deliver(self.client, "whatsapp", self.channel.id, body, sent)

    async def deliver_fixture(self, name: str) -> httpx.Response:
        response = await self.deliver(fixture("whatsapp", name))
        assert response.status_code == 200, response.text
        return response

    async def emit(self, event: SimEvent) -> None:
        """Deliver what the sandbox's WhatsApp sends for ``event`` (fake → webhook route)."""
        for delivery in FAKE.deliveries(self.sandbox_channel(), event):
            response = await self.client.post(
                delivery.url, content=delivery.body, headers=delivery.headers
            )
            assert response.status_code == 200, response.text

    # --- reads ------------------------------------------------------------------------------

    async def conversations(self) -> list[Conversation]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Conversation)
                .where(Conversation.channel_account_id == self.channel.id)
                .order_by(Conversation.id)
            )
            return list(rows.scalars())

    async def thread(self, wa_id: str) -> list[MessageOut]:
        """The messages of the conversation with ``wa_id``, oldest first (core query)."""
        async with self.sessions() as session:
            conversation = (
                await session.execute(
                    select(Conversation).where(
                        Conversation.channel_account_id == self.channel.id,
                        Conversation.thread_key == wa_id,
                    )
                )
            ).scalar_one()
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

    async def contact(self, wa_id: str) -> ContactDetail:
        async with self.sessions() as session:
            identity = await self.identity(wa_id, session)
            return await contact_detail(session, self.actor, identity.contact_id)

    async def identity(self, wa_id: str, session: AsyncSession | None = None) -> ContactIdentity:
        if session is None:
            async with self.sessions() as own:
                return await self.identity(wa_id, own)
        return (
            await session.execute(
                select(ContactIdentity).where(
                    ContactIdentity.channel_account_id == self.channel.id,
                    ContactIdentity.external_id == wa_id,
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
async def wa(db, factory, client, sessions) -> WhatsApp:
    """A WhatsApp channel account (the fixtures' phone-number id) and an owner's view of it."""
    ws = await factory.workspace()
    channel = await factory.channel(
        ws,
        Platform.whatsapp,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        credentials={
            "signing_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
        },
    )
    await db.commit()
    # Reads through the core's queries need an actor, not a stored user (whose Argon2 hash
    # would cost a third of a second per test).
    actor = Actor(user_id=0, workspace_id=ws.id, role=Role.owner, name="tests")
    return WhatsApp(channel=channel, actor=actor, headers={}, sessions=sessions, client=client)


@pytest.fixture
async def api(wa: WhatsApp, db, factory, monkeypatch) -> WhatsApp:
    """``wa`` with an owner's API token, for the JSON API."""
    ws = await db.get(Workspace, wa.channel.workspace_id)
    owner, actor = await factory.user(ws, Role.owner)
    token = await factory.token(ws, owner)
    await db.commit()
    wa.actor, wa.headers = actor, {"Authorization": f"Bearer {token}"}
    return wa


@pytest.fixture
def sandbox(wa: WhatsApp, workers):
    """The in-process sandbox of ``workers``, playing WhatsApp for ``wa``'s channel."""
    state = workers.sandbox
    state.add_channel(wa.sandbox_channel())
    for person in (LUCIA, OLIVER, GIULIA):
        state.add_person(Platform.whatsapp, person)
    return state


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
