"""Members, roles, teams and API tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, require_admin
from bandeja.core.activity.actions import record
from bandeja.core.channels.models import ChannelAccount, ChannelMember
from bandeja.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bandeja.core.events import WorkspaceChanged, emit
from bandeja.core.security import hash_password, hash_token, new_token
from bandeja.core.users.models import ApiToken, Membership, Role, Team, TeamMember, User
from bandeja.core.users.schemas import TeamIn, UserIn, UserPatch


async def add_member(
    session: AsyncSession, *, workspace_id: int, data: UserIn, actor: Actor | None = None
) -> User:
    """Create the user if the e-mail is new, and make them a member of the workspace.

    ``actor`` is None for the CLI (an operator on the server); through the API only admins add
    members, and only owners make owners.
    """
    if actor is not None:
        require_admin(actor)
        if data.role is Role.owner and actor.role is not Role.owner:
            raise PermissionDenied("only owners may make owners")
    email = data.email.lower()
    user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
    if user is None:
        user = User(
            email=email,
            name=data.name.strip(),
            password_hash=hash_password(data.password),
            locale=data.locale,
        )
        session.add(user)
        await session.flush()
    elif await session.get(Membership, (workspace_id, user.id)) is not None:
        raise Conflict(f"{email} is already a member of this workspace")
    session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=data.role))
    await session.flush()
    record(
        session,
        workspace_id=workspace_id,
        verb="member.added",
        actor_user_id=actor.user_id if actor else None,
        user_id=user.id,
        role=data.role.value,
    )
    emit(session, WorkspaceChanged(workspace_id=workspace_id, what="users"))
    return user


async def _membership(session: AsyncSession, actor: Actor, user_id: int) -> Membership:
    membership = await session.get(Membership, (actor.workspace_id, user_id))
    if membership is None:
        raise NotFound(f"user {user_id} not found")
    return membership


async def _owners(session: AsyncSession, workspace_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner)
        )
        or 0
    )


async def set_channel_access(
    session: AsyncSession, workspace_id: int, user_id: int, channel_account_ids: Sequence[int]
) -> None:
    wanted = set(channel_account_ids)
    found = set(
        (
            await session.execute(
                select(ChannelAccount.id).where(
                    ChannelAccount.workspace_id == workspace_id, ChannelAccount.id.in_(wanted)
                )
            )
        ).scalars()
    )
    if wanted - found:
        raise InvalidInput(f"unknown channel account ids: {sorted(wanted - found)}")
    in_workspace = select(ChannelAccount.id).where(ChannelAccount.workspace_id == workspace_id)
    await session.execute(
        delete(ChannelMember).where(
            ChannelMember.user_id == user_id, ChannelMember.channel_account_id.in_(in_workspace)
        )
    )
    session.add_all(ChannelMember(channel_account_id=c, user_id=user_id) for c in sorted(wanted))


async def update_member(
    session: AsyncSession, actor: Actor, user_id: int, patch: UserPatch
) -> User:
    """Members edit their own name and language; admins edit roles and channel access."""
    membership = await _membership(session, actor, user_id)
    user = await session.get(User, user_id)
    assert user is not None
    is_self = user_id == actor.user_id
    if (patch.role is not None or patch.channel_account_ids is not None) or not is_self:
        require_admin(actor)
    if patch.role is not None and patch.role != membership.role:
        if Role.owner in (patch.role, membership.role) and actor.role is not Role.owner:
            raise PermissionDenied("only owners may grant or take the owner role")
        if membership.role is Role.owner and await _owners(session, actor.workspace_id) == 1:
            raise InvalidInput("a workspace keeps at least one owner")
        membership.role = patch.role
    if patch.name is not None:
        user.name = patch.name.strip()
    if patch.locale is not None:
        user.locale = patch.locale
    if patch.channel_account_ids is not None:
        await set_channel_access(session, actor.workspace_id, user_id, patch.channel_account_ids)
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="member.updated",
        actor_user_id=actor.user_id,
        user_id=user_id,
        **patch.model_dump(exclude_none=True, mode="json"),
    )
    emit(
        session,
        WorkspaceChanged(
            workspace_id=actor.workspace_id, what="users", actor_user_id=actor.user_id
        ),
    )
    return user


async def _check_team_name(session: AsyncSession, actor: Actor, name: str, skip: int = 0) -> None:
    clash = await session.scalar(
        select(Team.id).where(
            Team.workspace_id == actor.workspace_id, Team.name == name, Team.id != skip
        )
    )
    if clash:
        raise Conflict(f"a team named {name!r} already exists")


async def create_team(session: AsyncSession, actor: Actor, data: TeamIn) -> Team:
    require_admin(actor)
    name = data.name.strip()
    await _check_team_name(session, actor, name)
    team = Team(workspace_id=actor.workspace_id, name=name)
    session.add(team)
    await session.flush()
    await _set_team_members(session, actor, team, data.member_ids)
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="team.created",
        actor_user_id=actor.user_id,
        team_id=team.id,
        name=name,
    )
    emit(session, WorkspaceChanged(workspace_id=actor.workspace_id, what="teams"))
    return team


async def update_team(session: AsyncSession, actor: Actor, team_id: int, data: TeamIn) -> Team:
    require_admin(actor)
    team = await session.get(Team, team_id)
    if team is None or team.workspace_id != actor.workspace_id:
        raise NotFound(f"team {team_id} not found")
    await _check_team_name(session, actor, data.name.strip(), skip=team.id)
    team.name = data.name.strip()
    await _set_team_members(session, actor, team, data.member_ids)
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="team.updated",
        actor_user_id=actor.user_id,
        team_id=team.id,
        name=team.name,
    )
    emit(session, WorkspaceChanged(workspace_id=actor.workspace_id, what="teams"))
    return team


async def _set_team_members(
    session: AsyncSession, actor: Actor, team: Team, member_ids: Sequence[int]
) -> None:
    wanted = set(member_ids)
    members = set(
        (
            await session.execute(
                select(Membership.user_id).where(
                    Membership.workspace_id == actor.workspace_id, Membership.user_id.in_(wanted)
                )
            )
        ).scalars()
    )
    if wanted - members:
        raise InvalidInput(f"not members of this workspace: {sorted(wanted - members)}")
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    session.add_all(TeamMember(team_id=team.id, user_id=u) for u in sorted(wanted))


async def create_api_token(
    session: AsyncSession, *, workspace_id: int, email: str, name: str = "cli"
) -> str:
    """A new API token for a member. Only its hash is stored: this is the one chance to see it."""
    user = (
        await session.execute(select(User).where(User.email == email.lower()))
    ).scalar_one_or_none()
    if user is None or await session.get(Membership, (workspace_id, user.id)) is None:
        raise NotFound(f"{email} is not a member of this workspace")
    token = new_token()
    session.add(
        ApiToken(
            workspace_id=workspace_id, user_id=user.id, name=name, token_hash=hash_token(token)
        )
    )
    record(
        session, workspace_id=workspace_id, verb="token.created", actor_user_id=user.id, name=name
    )
    return token
