"""The small lists the inbox's menus need (teammates, teams, channel accounts, tags): a few
narrow reads, each one statement, columns only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount, ChannelMember
from bandeja.core.tags.models import Tag
from bandeja.core.users.models import Membership, Role, Team, User


@dataclass(frozen=True, slots=True)
class Teammate:
    id: int
    name: str
    is_admin: bool
    channel_ids: frozenset[int]

    def sees(self, channel_id: int) -> bool:
        return self.is_admin or channel_id in self.channel_ids


@dataclass(frozen=True, slots=True)
class Named:
    id: int
    name: str
    extra: str = ""


async def teammates(
    session: AsyncSession, actor: Actor, *, with_channels: bool = True
) -> list[Teammate]:
    """Active members of the workspace, with the channel accounts each may see (who may be
    assigned a conversation) unless ``with_channels`` is false (the list's filter menu).

    One statement either way (the pane reads this on every opening): a member comes back once
    per channel account of theirs, or once with none."""
    members = (
        select(User.id, User.name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == actor.workspace_id, User.is_active.is_(True))
        .order_by(User.name, User.id)
    )
    if not with_channels:
        return [
            Teammate(i, n, role in (Role.owner, Role.admin), frozenset())
            for i, n, role in await session.execute(members)
        ]
    workspace_channels = select(ChannelAccount.id).where(
        ChannelAccount.workspace_id == actor.workspace_id
    )
    rows = await session.execute(
        members.add_columns(ChannelMember.channel_account_id).outerjoin(
            ChannelMember,
            (ChannelMember.user_id == User.id)
            & ChannelMember.channel_account_id.in_(workspace_channels),
        )
    )
    found: dict[int, tuple[str, Role, set[int]]] = {}  # in the statement's order
    for user_id, name, role, channel_id in rows:
        _name, _role, channels = found.setdefault(user_id, (name, role, set()))
        if channel_id is not None:
            channels.add(channel_id)
    return [
        Teammate(
            id=user_id,
            name=name,
            is_admin=role in (Role.owner, Role.admin),
            channel_ids=frozenset(channels),
        )
        for user_id, (name, role, channels) in found.items()
    ]


async def teams(session: AsyncSession, actor: Actor) -> list[Named]:
    rows = await session.execute(
        select(Team.id, Team.name)
        .where(Team.workspace_id == actor.workspace_id)
        .order_by(Team.name)
    )
    return [Named(i, n) for i, n in rows]


async def channel_accounts(session: AsyncSession, actor: Actor) -> list[Named]:
    """The channel accounts the actor sees; ``extra`` is the platform."""
    rows = await session.execute(
        select(ChannelAccount.id, ChannelAccount.name, ChannelAccount.platform)
        .where(
            ChannelAccount.workspace_id == actor.workspace_id,
            visible_channels(actor, ChannelAccount.id),
        )
        .order_by(ChannelAccount.platform, ChannelAccount.name)
    )
    return [Named(i, n, p.value) for i, n, p in rows]


async def tags(session: AsyncSession, actor: Actor) -> list[Named]:
    """The workspace's tags; ``extra`` is the colour."""
    rows = await session.execute(
        select(Tag.id, Tag.name, Tag.color)
        .where(Tag.workspace_id == actor.workspace_id)
        .order_by(Tag.name, Tag.id)
    )
    return [Named(i, n, c) for i, n, c in rows]
