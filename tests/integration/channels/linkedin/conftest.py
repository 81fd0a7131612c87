"""A LinkedIn Page channel account, notifications signed as LinkedIn signs them, the in-process
sandbox playing the Community Management API (whose comments the tests seed), and reads of the
inbox through the core's queries."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.linkedin  # noqa: F401
from bandeja.channels.linkedin.fake import FAKE, Comment, Post
from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent, SimPerson
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

ORG_ID = "90412345"  # the fixtures' organizationalEntity
ORG = f"urn:li:organization:{ORG_ID}"
CLIENT_SECRET = "WPL_AP1.q8Zt3xKv0LmN5bRd.Yw2FhQ=="
ACCESS_TOKEN = "AQXdSP_LinkedInCommunityTestToken"
SHARE = "urn:li:share:7270123456789012480"  # the fixtures' post, and its feed activity
ACTIVITY = "urn:li:activity:7270123456789012481"
MENTION_SHARE = "urn:li:share:7270999888777666555"
MENTION_UGC = "urn:li:ugcPost:7270999888777666556"
SOFIA = SimPerson(id="urn:li:person:aB3dE5fG7h", name="Sofía Martín", handle="", language="es")
JAMES = SimPerson(id="urn:li:person:Xy9Zw8Vu7t", name="James Whitfield", handle="", language="en")
GIULIA = SimPerson(id="urn:li:person:Qr5St6Uv7w", name="Giulia Conti", handle="", language="it")
T_MS = 1765101600000  # the fixtures' first lastModifiedAt
T = datetime(2025, 12, 7, 10, 0, tzinfo=UTC)


def comment(comment_id: int) -> str:
    return f"urn:li:comment:({ACTIVITY},{comment_id})"


TOP = comment(7270234567890123456)  # Sofía's comment (comment__ids_only)
DECORATED = comment(7270234567890123457)  # James's comment (comment__decorated)
NESTED = comment(7270234567890123458)  # Giulia's answer to Sofía (comment__reply_nested)
SHORT = comment(7270234567890123459)  # comment__short_urn, written "(activity:…,…)"
BATCHED = comment(7270234567890123460)  # comment__batch
PAGE_REPLY = comment(7270234567890123470)  # the Page's answer to Sofía (admin_comment__reply)


def signature(body: bytes, secret: str = CLIENT_SECRET) -> str:
    return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()


def seed_api() -> None:
    """What the Comments and Posts APIs answer for the fixtures' comments and posts."""
    FAKE.remember(
        Comment(
            TOP,
            SOFIA.id,
            "¿Hacéis envíos a Canarias? Me encantaría regalar una caja de café.",
            T_MS - 30_000,
            T_MS - 30_000,
            None,
            SOFIA.name,
        )
    )
    FAKE.remember(
        Comment(
            DECORATED,
            JAMES.id,
            "Congratulations! Will the Brera shop keep its weekend brunch?",
            T_MS + 55_000,
            T_MS + 55_000,
            None,
            JAMES.name,
        )
    )
    FAKE.remember(
        Comment(
            NESTED,
            GIULIA.id,
            "Anche io vorrei saperlo, per Palermo!",
            T_MS + 115_000,
            T_MS + 115_000,
            TOP,
            GIULIA.name,
        )
    )
    FAKE.remember(
        Comment(
            SHORT,
            JAMES.id,
            "Loved the oat flat white in Madrid.",
            T_MS + 175_000,
            T_MS + 175_000,
            None,
            JAMES.name,
        )
    )
    FAKE.remember(
        Comment(
            BATCHED,
            GIULIA.id,
            "Quando aprite a Torino?",
            T_MS + 205_000,
            T_MS + 205_000,
            None,
            GIULIA.name,
        )
    )
    FAKE.remember(
        Comment(
            PAGE_REPLY,
            ORG,
            "¡Hola Sofía! Sí, enviamos a Canarias en 72 h.",
            T_MS + 295_000,
            T_MS + 295_000,
            TOP,
            "Café Aurora Group",
        )
    )
    FAKE.remember(
        Post(
            MENTION_SHARE,
            GIULIA.id,
            "Colazione perfetta da @Café Aurora Group a Milano ☕🥐",
            T_MS + 595_000,
            GIULIA.name,
        )
    )


@pytest.fixture(autouse=True)
def api_memory() -> Iterator[None]:
    """The fake's comments and posts are the module's; each test starts from what it had."""
    comments, posts = FAKE.comments.copy(), FAKE.posts.copy()
    yield
    FAKE.comments.clear()
    FAKE.comments.update(comments)
    FAKE.posts.clear()
    FAKE.posts.update(posts)


@dataclass
class LinkedIn:
    channel: ChannelAccount
    actor: Actor
    headers: dict[str, str]
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient

    @property
    def webhook_url(self) -> str:
        return f"http://testserver/webhooks/linkedin/{self.channel.id}"

    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=Platform.linkedin,
            external_id=self.channel.external_id,
            name=self.channel.name,
            secrets={"signing_secret": CLIENT_SECRET, "access_token": ACCESS_TOKEN},
            webhook_url=self.webhook_url,
        )

    async def deliver(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"X-LI-Signature": signature(body)} if headers is None else headers
        return await deliver(self.client, "linkedin", self.channel.id, body, sent)

    async def deliver_fixture(self, name: str) -> httpx.Response:
        response = await self.deliver(fixture("linkedin", name))
        assert response.status_code == 200, response.text
        return response

    async def emit(self, event: SimEvent) -> int:
        """Deliver what the sandbox's LinkedIn sends for ``event`` (fake → webhook route)."""
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

    async def conversation(self, thread_key: str, kind: Kind = Kind.comment) -> Conversation:
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

    async def thread(self, thread_key: str, kind: Kind = Kind.comment) -> list[MessageOut]:
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

    async def contact(self, person_urn: str) -> ContactDetail:
        async with self.sessions() as session:
            identity = (
                await session.execute(
                    select(ContactIdentity).where(
                        ContactIdentity.channel_account_id == self.channel.id,
                        ContactIdentity.external_id == person_urn,
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


async def make_linkedin(
    db, factory, client, sessions, external_id: str = ORG_ID, access_token: str = ACCESS_TOKEN
) -> LinkedIn:
    ws = await factory.workspace()
    channel = await factory.channel(
        ws,
        Platform.linkedin,
        external_id=external_id,
        name="Café Aurora Group",
        credentials={"signing_secret": CLIENT_SECRET, "access_token": access_token},
    )
    await db.commit()
    # Reads through the core's queries need an actor, not a stored user (whose Argon2 hash
    # would cost a third of a second per test).
    actor = Actor(user_id=0, workspace_id=ws.id, role=Role.owner, name="tests")
    return LinkedIn(channel=channel, actor=actor, headers={}, sessions=sessions, client=client)


@pytest.fixture
async def li(db, factory, client, sessions) -> LinkedIn:
    """A LinkedIn Page channel account (the fixtures' organization) and an owner's view of it."""
    return await make_linkedin(db, factory, client, sessions)


@pytest.fixture
async def api(li: LinkedIn, db, factory) -> LinkedIn:
    """``li`` with an owner's API token, for the JSON API."""
    ws = await db.get(Workspace, li.channel.workspace_id)
    owner, actor = await factory.user(ws, Role.owner)
    token = await factory.token(ws, owner)
    await db.commit()
    li.actor, li.headers = actor, {"Authorization": f"Bearer {token}"}
    return li


@pytest.fixture
def sandbox(li: LinkedIn, workers):
    """The in-process sandbox of ``workers``, playing LinkedIn's API for ``li``'s Page."""
    state = workers.sandbox
    state.add_channel(li.sandbox_channel())
    return state


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
