"""An Instagram channel account, deliveries signed as Meta signs them, and reads of what landed
in the inbox (through the core's models and queries, each in a fresh session)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bandeja.channels.instagram  # noqa: F401 - registers the connector
from bandeja.channels.instagram.fake import FAKE
from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent, SimPerson
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.models import Message
from bandeja.core.messages.queries import messages_page
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox.models import SendJob
from bandeja.core.users.models import Role
from bandeja.core.workspaces.models import Workspace
from tests.support.factory import Factory
from tests.support.webhooks import deliver, fixture

ACCOUNT = "17841405822304914"  # the fixtures' entry[].id: @bottega.aurora
APP_SECRET = "9c4e2b7a1f0d4e6b8a3c5d7e9f1b2a4c"
VERIFY_TOKEN = "bandeja-ig-verify-7Hq2"
ACCESS_TOKEN = "EAAJx7ZBInstagramTestTokenBandeja0123"

# The people of the fixtures (IGSIDs as in the files).
LUCIA = SimPerson(id="6523081971089342", name="Lucía Fernández", handle="lucia.fdez", language="es")
GIULIA = SimPerson(
    id="7181960392514783", name="Giulia Ferrari", handle="giulia_ferrari", language="it"
)
OLIVIA = SimPerson(
    id="5920476613847259", name="Olivia Bennett", handle="olivia.bennett", language="en"
)


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Instagram:
    channel: ChannelAccount
    workspace: Workspace
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    _headers: dict[str, str] | None = None

    async def headers(self) -> dict[str, str]:
        """API auth of the workspace's owner, created on first use (password hashing is slow:
        only the tests that use the API pay for it)."""
        if self._headers is None:
            async with self.sessions() as session:
                factory = Factory(session)
                owner, _ = await factory.user(self.workspace, Role.owner)
                token = await factory.token(self.workspace, owner)
                await session.commit()
            self._headers = {"Authorization": f"Bearer {token}"}
        return self._headers

    @property
    def webhook_url(self) -> str:
        return f"http://testserver/webhooks/instagram/{self.channel.id}"

    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=Platform.instagram,
            external_id=ACCOUNT,
            name="@bottega.aurora",
            secrets={
                "signing_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "access_token": ACCESS_TOKEN,
            },
            webhook_url=self.webhook_url,
        )

    # --- webhooks -----------------------------------------------------------------------------

    async def deliver(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"X-Hub-Signature-256": signature(body)} if headers is None else headers
        return await deliver(self.client, "instagram", self.channel.id, body, sent)

    async def deliver_fixture(self, name: str) -> httpx.Response:
        response = await self.deliver(fixture("instagram", name))
        assert response.status_code == 200, response.text
        return response

    async def emit(self, event: SimEvent) -> int:
        """Deliver what the fake sends for ``event`` (the sandbox's own webhook requests)."""
        deliveries = FAKE.deliveries(self.sandbox_channel(), event)
        for delivery in deliveries:
            response = await self.client.post(
                delivery.url, content=delivery.body, headers=delivery.headers
            )
            assert response.status_code == 200, response.text
        return len(deliveries)

    # --- the inbox ----------------------------------------------------------------------------

    async def _all(self, stmt: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(stmt)).scalars().all())

    async def conversations(self, kind: Kind | None = None) -> list[Conversation]:
        stmt = select(Conversation).where(Conversation.channel_account_id == self.channel.id)
        if kind is not None:
            stmt = stmt.where(Conversation.kind == kind)
        return await self._all(stmt.order_by(Conversation.id))

    async def conversation(self, kind: Kind, key: str) -> Conversation:
        found = [c for c in await self.conversations(kind) if c.thread_key == key]
        assert len(found) == 1, [(c.kind, c.thread_key) for c in await self.conversations()]
        return found[0]

    async def messages(self, conversation_id: int) -> list[MessageOut]:
        """Oldest first, as the core's page query returns them (newest first), reversed."""
        async with self.sessions() as session:
            page = await messages_page(session, conversation_id, before=None, limit=200)
        return list(reversed(page.items))

    async def all_messages(self) -> list[Message]:
        return await self._all(
            select(Message)
            .where(Message.channel_account_id == self.channel.id)
            .order_by(Message.id)
        )

    async def message(self, external_id: str) -> Message | None:
        found = await self._all(
            select(Message).where(
                Message.channel_account_id == self.channel.id, Message.external_id == external_id
            )
        )
        return found[0] if found else None

    async def identity(self, external_id: str) -> tuple[ContactIdentity, Contact]:
        async with self.sessions() as session:
            identity = (
                await session.execute(
                    select(ContactIdentity).where(
                        ContactIdentity.channel_account_id == self.channel.id,
                        ContactIdentity.external_id == external_id,
                    )
                )
            ).scalar_one()
            contact = await session.get(Contact, identity.contact_id)
            assert contact is not None
            return identity, contact

    async def ignored(self) -> dict[str, int]:
        async with self.sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(IgnoredCount).where(
                            IgnoredCount.channel_account_id == self.channel.id
                        )
                    )
                )
                .scalars()
                .all()
            )
            return {row.reason: row.n for row in rows}

    async def raw_events(self) -> list[RawEvent]:
        return await self._all(
            select(RawEvent)
            .where(RawEvent.channel_account_id == self.channel.id)
            .order_by(RawEvent.id)
        )

    async def make_due(self) -> int:
        """Deliveries waiting for a message not stored yet: due now (as if their wait passed)."""
        async with self.sessions() as session:
            result = await session.execute(
                update(RawEvent)
                .where(
                    RawEvent.channel_account_id == self.channel.id,
                    RawEvent.status == RawEventStatus.pending,
                )
                .values(retry_at=None)
            )
            await session.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def job(self, message_id: int) -> SendJob:
        found: list[SendJob] = await self._all(
            select(SendJob).where(SendJob.message_id == message_id)
        )
        assert len(found) == 1
        return found[0]

    async def set_settings(self, **settings: Any) -> None:
        async with self.sessions() as session:
            channel = await session.get(ChannelAccount, self.channel.id)
            assert channel is not None
            channel.settings = {**channel.settings, **settings}
            await session.commit()

    async def reply(self, conversation_id: int, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json=body,
            headers=await self.headers(),
        )


@pytest.fixture
async def ig(db, factory, client, sessions) -> Instagram:
    workspace = await factory.workspace()
    channel = await factory.channel(
        workspace,
        Platform.instagram,
        external_id=ACCOUNT,
        name="@bottega.aurora",
        credentials={
            "signing_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
        },
    )
    await db.commit()
    return Instagram(channel=channel, workspace=workspace, sessions=sessions, client=client)


@pytest.fixture
def sandbox(ig, workers):
    """The in-process sandbox of ``workers`` plays Instagram for ``ig``'s account: it knows the
    channel (its token), and the people of the fixtures."""
    state = workers.sandbox
    state.add_channel(ig.sandbox_channel())
    for person in (LUCIA, GIULIA, OLIVIA):
        state.add_person(Platform.instagram, person)
    return state
