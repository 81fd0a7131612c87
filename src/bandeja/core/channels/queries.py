from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount, ChannelMember
from bandeja.core.channels.schemas import ChannelAccountOut


async def list_channel_accounts(session: AsyncSession, actor: Actor) -> list[ChannelAccountOut]:
    channels = (
        (
            await session.execute(
                select(ChannelAccount)
                .where(
                    ChannelAccount.workspace_id == actor.workspace_id,
                    visible_channels(actor, ChannelAccount.id),
                )
                .order_by(ChannelAccount.platform, ChannelAccount.name)
            )
        )
        .scalars()
        .all()
    )
    members: dict[int, list[int]] = defaultdict(list)
    if channels:
        for channel_id, user_id in await session.execute(
            select(ChannelMember.channel_account_id, ChannelMember.user_id).where(
                ChannelMember.channel_account_id.in_([c.id for c in channels])
            )
        ):
            members[channel_id].append(user_id)
    return [
        ChannelAccountOut(
            id=c.id,
            platform=c.platform,
            external_id=c.external_id,
            name=c.name,
            settings=c.settings,
            member_ids=sorted(members[c.id]),
            last_event_at=c.last_event_at,
            last_error=c.last_error,
            last_error_at=c.last_error_at,
            created_at=c.created_at,
        )
        for c in channels
    ]
