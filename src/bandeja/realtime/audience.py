"""Who may receive an event: the same rule as ``core.access.visible_channels``, held in memory
for each connected client so that fan-out asks no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, ChannelMember
from bandeja.core.users.models import Membership, Role


@dataclass(frozen=True, slots=True)
class Audience:
    user_id: int
    workspace_id: int
    is_admin: bool
    channel_account_ids: frozenset[int]

    def admits(self, payload: dict[str, Any]) -> bool:
        """An event naming users goes to them only; one naming a channel account to its members
        and the admins; one naming neither (workspace settings) to everybody."""
        user_ids = payload.get("user_ids")
        if user_ids is not None:
            return self.user_id in user_ids
        channel = payload.get("channel_account_id")
        if channel is None:
            return True
        return self.is_admin or channel in self.channel_account_ids


async def load_audience(session: AsyncSession, actor: Actor) -> Audience | None:
    """The actor's current role and channel accounts; None when they left the workspace."""
    role = await session.scalar(
        select(Membership.role).where(
            Membership.workspace_id == actor.workspace_id, Membership.user_id == actor.user_id
        )
    )
    if role is None:
        return None
    is_admin = role in (Role.owner, Role.admin)
    if is_admin:
        channels: frozenset[int] = frozenset()
    else:
        rows = await session.execute(
            select(ChannelMember.channel_account_id)
            .join(ChannelAccount, ChannelAccount.id == ChannelMember.channel_account_id)
            .where(
                ChannelMember.user_id == actor.user_id,
                ChannelAccount.workspace_id == actor.workspace_id,
            )
        )
        channels = frozenset(rows.scalars())
    return Audience(actor.user_id, actor.workspace_id, is_admin, channels)
