"""One channel account seen as its platform and its inbox: deliveries to the webhook route, the
sandbox's own webhook requests, the JSON API, and reads of what landed (each in a fresh session,
through the core's models and queries).

Each platform's ``conftest.py`` subclasses :class:`ChannelHarness` with what is its own: the
platform, its fake, its secrets and how it signs a delivery (:meth:`ChannelHarness.signed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bandeja.channels.sandbox.contract import SandboxChannel, SimEvent
from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.contacts.queries import contact_detail
from bandeja.core.contacts.schemas import ContactDetail
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.conversations.queries import conversation_detail
from bandeja.core.conversations.schemas import ConversationDetail
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.messages.models import Message
from bandeja.core.messages.queries import messages_page
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox.models import SendJob
from bandeja.core.users.models import Role
from bandeja.core.workspaces.models import Workspace
from tests.support.factory import Factory
from tests.support.webhooks import deliver, fixture

# ``conversation``'s and ``thread``'s kind when none is given: the harness's ``default_kind``.
_DEFAULT: Any = object()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class ChannelHarness:
    channel: ChannelAccount
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    # Reads through the core's queries need an actor, not a stored user; ``with_owner`` (or the
    # first API call of a harness with ``lazy_owner``) makes a real owner and its API token.
    actor: Actor | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The ``workers`` fixture, for harnesses that process every delivery (``drain``).
    workers: Any = None
    workspace: Workspace | None = None  # the channel's, as ``create`` made it

    platform: ClassVar[Platform]
    fake: ClassVar[Any]  # the platform's fake: ``deliveries(channel, event)``
    secrets: ClassVar[dict[str, str]]  # what the sandbox signs and authenticates with
    default_kind: ClassVar[Kind | None] = Kind.dm  # of ``conversation``/``thread``; None: any
    lazy_owner: ClassVar[bool] = False  # the API's owner made on the first ``reply``
    drain: ClassVar[bool] = False  # run the workers after ``emit``

    def __post_init__(self) -> None:
        if self.actor is None:
            self.actor = Actor(
                user_id=0, workspace_id=self.channel.workspace_id, role=Role.owner, name="tests"
            )

    @classmethod
    async def create(
        cls,
        db: AsyncSession,
        factory: Factory,
        client: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        *,
        external_id: str,
        name: str,
        credentials: dict[str, str],
        **fields: Any,
    ) -> Self:
        """A new workspace with this platform's channel account, committed."""
        workspace = await factory.workspace()
        channel = await factory.channel(
            workspace, cls.platform, external_id=external_id, name=name, credentials=credentials
        )
        await db.commit()
        return cls(channel=channel, sessions=sessions, client=client, workspace=workspace, **fields)

    async def with_owner(self) -> Self:
        """An owner of the channel's workspace as actor, and its API token as headers."""
        async with self.sessions() as session:
            workspace = await session.get(Workspace, self.channel.workspace_id)
            assert workspace is not None
            factory = Factory(session)
            owner, self.actor = await factory.user(workspace, Role.owner)
            token = await factory.token(workspace, owner)
            await session.commit()
        self.headers = {"Authorization": f"Bearer {token}"}
        return self

    async def auth_headers(self) -> dict[str, str]:
        if not self.headers and self.lazy_owner:
            await self.with_owner()
        return self.headers

    # --- the platform -------------------------------------------------------------------------

    @property
    def webhook_url(self) -> str:
        return f"http://testserver/webhooks/{self.platform.value}/{self.channel.id}"

    def sandbox_channel(self) -> SandboxChannel:
        return SandboxChannel(
            bandeja_id=self.channel.id,
            platform=self.platform,
            external_id=self.channel.external_id,
            name=self.channel.name,
            secrets=dict(self.secrets),
            webhook_url=self.webhook_url,
        )

    def signed(self, body: bytes) -> dict[str, str]:
        """The headers the platform authenticates ``body`` with."""
        raise NotImplementedError

    async def deliver(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """Post ``body`` to the webhook route, signed unless ``headers`` are given."""
        sent = self.signed(body) if headers is None else headers
        return await deliver(self.client, self.platform.value, self.channel.id, body, sent)

    async def deliver_fixture(self, name: str) -> httpx.Response:
        response = await self.deliver(fixture(self.platform.value, name))
        assert response.status_code == 200, (name, response.text)
        return response

    async def emit(self, *events: SimEvent, fake: Any = None) -> int:
        """Deliver what the sandbox's platform sends for ``events`` (fake → webhook route);
        returns how many requests."""
        sent = 0
        for event in events:
            for delivery in (fake or self.fake).deliveries(self.sandbox_channel(), event):
                response = await self.client.post(
                    delivery.url, content=delivery.body, headers=delivery.headers
                )
                assert response.status_code == 200, response.text
                sent += 1
        if self.drain:
            await self.workers.drain()
        return sent

    # --- the API ------------------------------------------------------------------------------

    async def reply(self, conversation_id: int, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json=body,
            headers=await self.auth_headers(),
        )

    async def set_settings(self, **settings: Any) -> None:
        async with self.sessions() as session:
            channel = await session.get(ChannelAccount, self.channel.id)
            assert channel is not None
            channel.settings = {**channel.settings, **settings}
            await session.commit()

    # --- reads --------------------------------------------------------------------------------

    async def conversations(self, kind: Kind | None = None) -> list[Conversation]:
        stmt = select(Conversation).where(Conversation.channel_account_id == self.channel.id)
        if kind is not None:
            stmt = stmt.where(Conversation.kind == kind)
        async with self.sessions() as session:
            return list((await session.execute(stmt.order_by(Conversation.id))).scalars())

    async def conversation(self, thread_key: str, kind: Kind | None = _DEFAULT) -> Conversation:
        """The conversation of ``thread_key`` (of ``kind``; by default ``default_kind``)."""
        wanted = self.default_kind if kind is _DEFAULT else kind
        found = [c for c in await self.conversations(wanted) if c.thread_key == thread_key]
        assert len(found) == 1, (
            f"{len(found)} conversations {thread_key!r}",
            [(c.kind, c.thread_key) for c in await self.conversations()],
        )
        return found[0]

    async def detail(self, thread_key: str, kind: Kind | None = None) -> ConversationDetail:
        """The conversation of ``thread_key`` as the API shows it (core query)."""
        conversation = await self.conversation(thread_key, kind)
        async with self.sessions() as session:
            assert self.actor is not None
            return await conversation_detail(session, self.actor, conversation.id)

    async def thread(self, thread_key: str, kind: Kind | None = _DEFAULT) -> list[MessageOut]:
        """The messages of one conversation, oldest first (core query)."""
        conversation = await self.conversation(thread_key, kind)
        return await self.messages(conversation.id)

    async def messages(self, conversation_id: int | None = None) -> list[MessageOut]:
        """The channel's messages in time order, or one conversation's, oldest first (the core's
        page query returns them newest first)."""
        async with self.sessions() as session:
            if conversation_id is not None:
                page = await messages_page(session, conversation_id, before=None, limit=200)
                return list(reversed(page.items))
            rows = await session.execute(
                select(Message)
                .where(Message.channel_account_id == self.channel.id)
                .order_by(Message.sent_at, Message.id)
            )
            return [MessageOut.model_validate(m) for m in rows.scalars()]

    async def stored(self, key: int | str) -> Message:
        """A message's row (with what the API does not show), by its id (``int``) or by the
        platform's id for it (``str``)."""
        async with self.sessions() as session:
            if isinstance(key, int):
                found = await session.get(Message, key)
            else:
                found = (
                    await session.execute(
                        select(Message).where(
                            Message.channel_account_id == self.channel.id,
                            Message.external_id == key,
                        )
                    )
                ).scalar_one_or_none()
            assert found is not None, f"no message {key!r}"
            return found

    async def message(self, key: int | str) -> MessageOut:
        """A message as the API shows it, by its id (``int``) or the platform's id (``str``)."""
        return MessageOut.model_validate(await self.stored(key))

    async def extra_of(self, message_id: int) -> dict[str, Any]:
        """What the platform said beyond the text (``Message.extra``)."""
        return dict((await self.message(message_id)).extra)

    async def identity(
        self, external_id: str, session: AsyncSession | None = None
    ) -> ContactIdentity:
        if session is None:
            async with self.sessions() as own:
                return await self.identity(external_id, own)
        return (
            await session.execute(
                select(ContactIdentity).where(
                    ContactIdentity.channel_account_id == self.channel.id,
                    ContactIdentity.external_id == external_id,
                )
            )
        ).scalar_one()

    async def identity_and_contact(self, external_id: str) -> tuple[ContactIdentity, Contact]:
        async with self.sessions() as session:
            identity = await self.identity(external_id, session)
            contact = await session.get(Contact, identity.contact_id)
            assert contact is not None
            return identity, contact

    async def contact(self, external_id: str) -> ContactDetail:
        """The contact behind ``external_id`` as the API shows it (core query)."""
        async with self.sessions() as session:
            identity = await self.identity(external_id, session)
            assert self.actor is not None
            return await contact_detail(session, self.actor, identity.contact_id)

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
            return {str(reason): int(n) for reason, n in rows}

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

    async def assert_all_processed(self) -> None:
        raws = await self.raw_events()
        assert raws, "nothing was stored"
        failed = [(r.id, r.error) for r in raws if r.status is not RawEventStatus.processed]
        assert not failed, failed

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

    async def job(self, message_id: int) -> SendJob:
        async with self.sessions() as session:
            return (
                await session.execute(select(SendJob).where(SendJob.message_id == message_id))
            ).scalar_one()
