from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, ChannelMember
from bandeja.core.users.models import Membership, Team, TeamMember, User
from bandeja.core.users.schemas import TeamOut, UserOut


async def list_members(session: AsyncSession, actor: Actor) -> list[UserOut]:
    rows = (
        await session.execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == actor.workspace_id)
            .order_by(User.name, User.id)
        )
    ).all()
    channels: dict[int, list[int]] = defaultdict(list)
    for user_id, channel_id in await session.execute(
        select(ChannelMember.user_id, ChannelMember.channel_account_id)
        .join(ChannelAccount, ChannelAccount.id == ChannelMember.channel_account_id)
        .where(ChannelAccount.workspace_id == actor.workspace_id)
    ):
        channels[user_id].append(channel_id)
    teams: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in await session.execute(
        select(TeamMember.user_id, TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.workspace_id == actor.workspace_id)
    ):
        teams[user_id].append(team_id)
    return [
        UserOut(
            id=u.id,
            email=u.email,
            name=u.name,
            role=role,
            locale=u.locale,
            avatar_url=u.avatar_url,
            channel_account_ids=sorted(channels[u.id]),
            team_ids=sorted(teams[u.id]),
        )
        for u, role in rows
    ]


async def list_teams(session: AsyncSession, actor: Actor) -> list[TeamOut]:
    teams = (
        (
            await session.execute(
                select(Team).where(Team.workspace_id == actor.workspace_id).order_by(Team.name)
            )
        )
        .scalars()
        .all()
    )
    members: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in await session.execute(
        select(TeamMember.team_id, TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.workspace_id == actor.workspace_id)
    ):
        members[team_id].append(user_id)
    return [TeamOut(id=t.id, name=t.name, member_ids=sorted(members[t.id])) for t in teams]
