"""Builds test data through the core's own actions, so tests exercise the real write paths."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.channels.sandbox.app import TEST_SANDBOX_URL, api_base_url
from bandeja.core.access import Actor
from bandeja.core.channels.actions import add_channel_member, create_channel_account
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.channels.schemas import ChannelAccountIn
from bandeja.core.contacts.actions import IdentityInfo
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.messages.actions import IncomingMessage, ThreadInfo, receive_message
from bandeja.core.messages.models import Message
from bandeja.core.security import SecretBox
from bandeja.core.users.actions import add_member, create_api_token
from bandeja.core.users.models import Role, User
from bandeja.core.users.schemas import UserIn
from bandeja.core.workspaces.actions import create_workspace
from bandeja.core.workspaces.models import Workspace

PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"
BOX = SecretBox(SECRET_KEY)
_seq = itertools.count(1)


class Factory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def workspace(self, slug: str | None = None) -> Workspace:
        n = next(_seq)
        return await create_workspace(self.session, slug=slug or f"ws{n}", name=f"Workspace {n}")

    async def user(
        self,
        workspace: Workspace,
        role: Role = Role.agent,
        *,
        name: str | None = None,
        email: str | None = None,
    ) -> tuple[User, Actor]:
        n = next(_seq)
        user = await add_member(
            self.session,
            workspace_id=workspace.id,
            data=UserIn(
                email=email or f"user{n}@example.com",
                name=name or f"User {n}",
                password=PASSWORD,
                role=role,
            ),
        )
        return user, Actor(user_id=user.id, workspace_id=workspace.id, role=role, name=user.name)

    async def token(self, workspace: Workspace, user: User) -> str:
        return await create_api_token(self.session, workspace_id=workspace.id, email=user.email)

    async def channel(
        self,
        workspace: Workspace,
        platform: Platform = Platform.instagram,
        *,
        members: list[User] | None = None,
        name: str | None = None,
        external_id: str | None = None,
        credentials: dict[str, str] | None = None,
        settings: dict[str, object] | None = None,
    ) -> ChannelAccount:
        n = next(_seq)
        channel = await create_channel_account(
            self.session,
            workspace_id=workspace.id,
            box=BOX,
            data=ChannelAccountIn(
                platform=platform,
                external_id=external_id or f"acct-{n}",
                name=name or f"{platform.value} {n}",
                credentials=credentials
                or {
                    "signing_secret": f"secret-{n}",
                    "verify_token": f"verify-{n}",
                    "access_token": f"token-{n}",
                },
                # Platform API calls go to the in-process sandbox of the `workers` fixture.
                settings={
                    "api_base_url": api_base_url(TEST_SANDBOX_URL, platform),
                    **(settings or {}),
                },
            ),
        )
        for member in members or []:
            await add_channel_member(self.session, workspace.id, channel.id, member.id)
        return channel

    async def message(
        self,
        channel: ChannelAccount,
        *,
        person: str = "p1",
        name: str = "Customer",
        text: str = "Hello!",
        kind: Kind = Kind.dm,
        thread: str | None = None,
        at: datetime | None = None,
        external_id: str | None = None,
    ) -> tuple[Conversation, Message]:
        n = next(_seq)
        message, _ = await receive_message(
            self.session,
            channel,
            IdentityInfo(external_id=person, display_name=name),
            ThreadInfo(kind=kind, key=thread or person),
            IncomingMessage(
                external_id=external_id or f"mid.{n}",
                text=text,
                sent_at=at or datetime.now(UTC) - timedelta(minutes=5),
            ),
        )
        conversation = await self.session.get(Conversation, message.conversation_id)
        assert conversation is not None
        return conversation, message
