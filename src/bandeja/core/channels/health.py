"""How each channel account is doing, for the settings page: its last event and last error (kept
on the account by ingest) and what failed: replies not delivered, webhook deliveries not applied."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, require_admin
from bandeja.core.channels.queries import list_channel_accounts
from bandeja.core.channels.schemas import ChannelAccountOut
from bandeja.core.ingest.models import RawEvent, RawEventStatus
from bandeja.core.outbox.models import SendJob, SendStatus


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: ChannelAccountOut
    failed_sends: int
    failed_events: int
    pending_events: int

    @property
    def healthy(self) -> bool:
        return not (self.failed_sends or self.failed_events or self.channel.last_error)


async def channel_health(session: AsyncSession, actor: Actor) -> list[ChannelHealth]:
    require_admin(actor)
    channels = await list_channel_accounts(session, actor)
    if not channels:
        return []
    ids = [c.id for c in channels]
    # Both counts read through the status indexes (``ix_send_jobs_due``, ``ix_raw_events_status``):
    # failed and pending rows are few next to the processed ones.
    failed_sends = await session.execute(
        select(SendJob.channel_account_id, func.count())
        .where(SendJob.status == SendStatus.failed, SendJob.channel_account_id.in_(ids))
        .group_by(SendJob.channel_account_id)
    )
    sends: dict[int, int] = {channel_id: n for channel_id, n in failed_sends.all()}  # noqa: C416
    events: dict[tuple[int, RawEventStatus], int] = {
        (channel_id, status): n
        for channel_id, status, n in await session.execute(
            select(RawEvent.channel_account_id, RawEvent.status, func.count())
            .where(
                RawEvent.status.in_([RawEventStatus.failed, RawEventStatus.pending]),
                RawEvent.channel_account_id.in_(ids),
            )
            .group_by(RawEvent.channel_account_id, RawEvent.status)
        )
    }
    return [
        ChannelHealth(
            channel=c,
            failed_sends=sends.get(c.id, 0),
            failed_events=events.get((c.id, RawEventStatus.failed), 0),
            pending_events=events.get((c.id, RawEventStatus.pending), 0),
        )
        for c in channels
    ]
