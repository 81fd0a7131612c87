from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, require_admin
from bandeja.core.activity.actions import record
from bandeja.core.channels.models import ChannelAccount, ChannelMember
from bandeja.core.channels.schemas import ChannelAccountIn
from bandeja.core.errors import Conflict, InvalidInput, NotFound
from bandeja.core.events import WorkspaceChanged, emit
from bandeja.core.security import SecretBox
from bandeja.core.users.models import Membership


async def create_channel_account(
    session: AsyncSession,
    *,
    workspace_id: int,
    data: ChannelAccountIn,
    box: SecretBox,
    actor: Actor | None = None,
) -> ChannelAccount:
    """Connect a platform account. ``actor`` is None for the CLI; through the API, admins only."""
    if actor is not None:
        require_admin(actor)
    clash = await session.scalar(
        select(ChannelAccount.id).where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.platform == data.platform,
            ChannelAccount.external_id == data.external_id,
        )
    )
    if clash:
        raise Conflict(f"{data.platform.value} account {data.external_id} is already connected")
    channel = ChannelAccount(
        workspace_id=workspace_id,
        platform=data.platform,
        external_id=data.external_id,
        name=data.name.strip(),
        settings=data.settings,
        credentials_sealed=box.seal(json.dumps(data.credentials)) if data.credentials else None,
    )
    await _check_members(session, workspace_id, data.member_ids)
    session.add(channel)
    await session.flush()
    for user_id in data.member_ids:
        await add_channel_member(session, workspace_id, channel.id, user_id)
    record(
        session,
        workspace_id=workspace_id,
        verb="channel_account.created",
        actor_user_id=actor.user_id if actor else None,
        channel_account_id=channel.id,
        platform=data.platform.value,
        name=channel.name,
    )
    emit(session, WorkspaceChanged(workspace_id=workspace_id, what="channel_accounts"))
    return channel


async def _check_members(session: AsyncSession, workspace_id: int, user_ids: list[int]) -> None:
    wanted = set(user_ids)
    if not wanted:
        return
    members = set(
        (
            await session.execute(
                select(Membership.user_id).where(
                    Membership.workspace_id == workspace_id, Membership.user_id.in_(wanted)
                )
            )
        ).scalars()
    )
    if wanted - members:
        raise InvalidInput(f"not members of this workspace: {sorted(wanted - members)}")


async def add_channel_member(
    session: AsyncSession, workspace_id: int, channel_account_id: int, user_id: int
) -> None:
    await _check_members(session, workspace_id, [user_id])
    if await session.get(ChannelMember, (channel_account_id, user_id)) is None:
        session.add(ChannelMember(channel_account_id=channel_account_id, user_id=user_id))
        await session.flush()


def credentials(channel: ChannelAccount, box: SecretBox) -> dict[str, str]:
    if not channel.credentials_sealed:
        return {}
    value: dict[str, str] = json.loads(box.open(channel.credentials_sealed))
    return value


async def get_channel_account(
    session: AsyncSession, actor: Actor, channel_id: int
) -> ChannelAccount:
    channel = await session.get(ChannelAccount, channel_id)
    if channel is None or channel.workspace_id != actor.workspace_id:
        raise NotFound(f"channel account {channel_id} not found")
    return channel
