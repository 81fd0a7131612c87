"""A Facebook Page connected to Bandeja, deliveries signed as Meta signs them, the in-process
sandbox playing the Graph API, and reads of what landed in the inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Registers the connector. The registry imports every platform on first use; registering this
# one first keeps these tests independent of the other platforms' packages.
import bandeja.channels.messenger  # noqa: F401
from bandeja.channels.messenger import profiles
from bandeja.channels.messenger.fake import FAKE
from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent, SimPerson
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.models import Message
from bandeja.core.messages.queries import messages_page
from bandeja.core.outbox.models import SendJob
from bandeja.core.users.actions import create_api_token
from bandeja.core.users.models import Membership, Role, User
from tests.support.webhooks import deliver, fixture

# The ids the fixtures use (tests/fixtures/channels/messenger/).
PAGE_ID = "104857600123456"
PAGE_NAME = "Horno Bandeja"
APP_SECRET = "3f9c2b7e1a6d4c8b9e0f1a2b3c4d5e6f"
VERIFY_TOKEN = "bandeja-verify-Hq7Zp"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAHornoBandejaPageToken"
LUCIA_ID, OLIVIA_ID, GIULIA_ID = "7234561098765432", "6123450987654321", "5012349876543210"
MID_TEXT = (
    "m_Hq0tlCbY2nqsC9ZQ3rF7jWkLxV1pD8eR4uT6yI0oP2aS5dF7gH9jK1lZ3xC5vB7nM9qW2eR4tY6uI8oP0aS2dF4g"
)
MID_OUT = (
    "m_Pf2kR8sT1uV4wX7yZ0aB3cD6eF9gH2iJ5kL8mN1oP4qR7sT0uV3wX6yZ9aB2cD5eF8gH1iJ4kL7mN0oP3qR6sT9u"
)
POST_ID = f"{PAGE_ID}_1122334455667788"
TOP_COMMENT = "1122334455667788_2233445566778899"
REPLY_COMMENT = "1122334455667788_3344556677889900"
PAGE_REPLY = "1122334455667788_4455667788990011"
OLIVIA_FB = "8765432109876543"  # Olivia's id on Page comments (not her PSID)

LUCIA = SimPerson(id=LUCIA_ID, name="Lucía Fernández", handle="lucia.fernandez", language="es")
OLIVIA = SimPerson(id=OLIVIA_ID, name="Olivia Bennett", handle="olivia.bennett", language="en")
GIULIA = SimPerson(id=GIULIA_ID, name="Giulia Ferrari", handle="giulia.ferrari", language="it")


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


@pytest.fixture(autouse=True)
def _fresh_platform_memory():
    """The profile cache and the fake's memory are per process; tests start without them."""
    profiles.clear_cache()
    FAKE.reset()
    yield
    profiles.clear_cache()
    FAKE.reset()


@dataclass
class Page:
    channel: ChannelAccount
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    workers: Any
    factory: Any
    db: AsyncSession
    _headers: dict[str, str] | None = None

    @property
    def sandbox(self) -> SandboxState:
        return self.workers.sandbox  # type: ignore[no-any-return]

    @property
    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=Platform.messenger,
            external_id=PAGE_ID,
            name=PAGE_NAME,
            secrets={
                "signing_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "access_token": ACCESS_TOKEN,
            },
            webhook_url=f"http://testserver/webhooks/messenger/{self.channel.id}",
        )

    # --- webhooks -----------------------------------------------------------------------------

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        signed = {"X-Hub-Signature-256": signature(body)} if headers is None else headers
        return await deliver(self.client, "messenger", self.channel.id, body, signed)

    async def deliver(self, *names: str) -> None:
        """Deliver fixtures in this order, each processed before the next arrives."""
        for name in names:
            response = await self.post(fixture("messenger", name))
            assert response.status_code == 200, (name, response.text)
            await self.workers.drain()

    async def deliver_json(self, data: dict[str, Any]) -> None:
        response = await self.post(payload(data))
        assert response.status_code == 200, response.text
        await self.workers.drain()

    async def emit(self, *events: SimEvent) -> int:
        """Deliver what the sandbox's Messenger sends for ``events``; returns the requests."""
        sent = 0
        for event in events:
            for delivery in FAKE.deliveries(self.sandbox_channel, event):
                response = await self.client.post(
                    delivery.url, content=delivery.body, headers=delivery.headers
                )
                assert response.status_code == 200, response.text
                sent += 1
        await self.workers.drain()
        return sent

    async def echo_sends(self) -> None:
        """Deliver what Messenger reports back after every send so far (echo, delivery, read)."""
        for record in list(self.sandbox.sent):
            await self.emit(*FAKE.echoes(self.sandbox_channel, record))

    # --- the API ------------------------------------------------------------------------------

    async def headers(self) -> dict[str, str]:
        """An owner's API token, made on first use. The owner has no password: hashing one
        (Argon2) would cost more than the rest of a test."""
        if self._headers is None:
            workspace_id = self.channel.workspace_id
            owner = User(email=f"owner-{workspace_id}@horno.example", name="Ana Owner")
            self.db.add(owner)
            await self.db.flush()
            self.db.add(Membership(workspace_id=workspace_id, user_id=owner.id, role=Role.owner))
            await self.db.flush()
            token = await create_api_token(self.db, workspace_id=workspace_id, email=owner.email)
            await self.db.commit()
            self._headers = {"Authorization": f"Bearer {token}"}
        return self._headers

    async def reply(self, conversation_id: int, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json=body,
            headers=await self.headers(),
        )

    async def set_settings(self, **settings: Any) -> None:
        async with self.sessions() as session:
            channel = await session.get(ChannelAccount, self.channel.id)
            assert channel is not None
            channel.settings = {**channel.settings, **settings}
            await session.commit()

    # --- reads --------------------------------------------------------------------------------

    async def conversation(self, key: str, kind: Kind = Kind.dm) -> Conversation:
        async with self.sessions() as session:
            found = (
                await session.execute(
                    select(Conversation).where(
                        Conversation.channel_account_id == self.channel.id,
                        Conversation.kind == kind,
                        Conversation.thread_key == key,
                    )
                )
            ).scalar_one_or_none()
            assert found is not None, f"no {kind.value} conversation {key}"
            return found

    async def conversations(self) -> list[Conversation]:
        async with self.sessions() as session:
            return list(
                (
                    await session.execute(
                        select(Conversation)
                        .where(Conversation.channel_account_id == self.channel.id)
                        .order_by(Conversation.id)
                    )
                ).scalars()
            )

    async def thread(self, key: str, kind: Kind = Kind.dm) -> list[Message]:
        """A conversation's messages, oldest first (the core's query of an open thread)."""
        conversation = await self.conversation(key, kind)
        async with self.sessions() as session:
            page = await messages_page(session, conversation.id, before=None, limit=200)
            ids = [m.id for m in reversed(page.items)]
            rows = {
                m.id: m
                for m in (
                    await session.execute(select(Message).where(Message.id.in_(ids)))
                ).scalars()
            }
            return [rows[i] for i in ids]

    async def messages(self) -> list[Message]:
        async with self.sessions() as session:
            return list(
                (
                    await session.execute(
                        select(Message)
                        .where(Message.channel_account_id == self.channel.id)
                        .order_by(Message.sent_at, Message.id)
                    )
                ).scalars()
            )

    async def message(self, external_id: str) -> Message:
        async with self.sessions() as session:
            found = (
                await session.execute(
                    select(Message).where(
                        Message.channel_account_id == self.channel.id,
                        Message.external_id == external_id,
                    )
                )
            ).scalar_one_or_none()
            assert found is not None, f"no message {external_id}"
            return found

    async def by_id(self, message_id: int) -> Message:
        async with self.sessions() as session:
            found = await session.get(Message, message_id)
            assert found is not None
            return found

    async def identity(self, external_id: str) -> ContactIdentity:
        async with self.sessions() as session:
            found = (
                await session.execute(
                    select(ContactIdentity).where(
                        ContactIdentity.channel_account_id == self.channel.id,
                        ContactIdentity.external_id == external_id,
                    )
                )
            ).scalar_one_or_none()
            assert found is not None, f"no identity {external_id}"
            return found

    async def contact_of(self, conversation: Conversation) -> Contact:
        async with self.sessions() as session:
            found = await session.get(Contact, conversation.contact_id)
            assert found is not None
            return found

    async def ignored(self) -> dict[str, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(IgnoredCount.reason, IgnoredCount.n).where(
                    IgnoredCount.channel_account_id == self.channel.id
                )
            )
            return dict(rows.all())

    async def raw_events(self) -> list[RawEvent]:
        async with self.sessions() as session:
            return list(
                (
                    await session.execute(
                        select(RawEvent)
                        .where(RawEvent.channel_account_id == self.channel.id)
                        .order_by(RawEvent.id)
                    )
                ).scalars()
            )

    async def assert_all_processed(self) -> None:
        raws = await self.raw_events()
        assert raws, "nothing was stored"
        failed = [(r.id, r.error) for r in raws if r.status is not RawEventStatus.processed]
        assert not failed, failed

    async def job(self, message_id: int) -> SendJob:
        async with self.sessions() as session:
            found = (
                await session.execute(select(SendJob).where(SendJob.message_id == message_id))
            ).scalar_one()
            return found


@pytest.fixture
async def page(db, factory, client, workers, sessions) -> Page:
    workspace = await factory.workspace()
    channel = await factory.channel(
        workspace,
        Platform.messenger,
        external_id=PAGE_ID,
        name=PAGE_NAME,
        credentials={
            "signing_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
        },
    )
    await db.commit()
    result = Page(
        channel=channel, sessions=sessions, client=client, workers=workers, factory=factory, db=db
    )
    result.sandbox.add_channel(result.sandbox_channel)
    return result


def now() -> datetime:
    return datetime.now(UTC)
