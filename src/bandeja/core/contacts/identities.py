"""A contact's identities as the contact panel shows them: platform, account, handle, language and
the consent the platform reported, on the channel accounts the actor can see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.contacts.queries import get_contact


@dataclass(frozen=True, slots=True)
class IdentityView:
    id: int
    platform: Platform
    channel_name: str
    external_id: str
    handle: str | None
    display_name: str | None
    language: str | None
    accepts_messages: bool | None
    marketing_opt_in: bool | None


async def identities_of(session: AsyncSession, actor: Actor, contact_id: int) -> list[IdentityView]:
    await get_contact(session, actor, contact_id)  # 404 unless visible
    rows = await session.execute(
        select(ContactIdentity, ChannelAccount.platform, ChannelAccount.name)
        .join(ChannelAccount, ChannelAccount.id == ContactIdentity.channel_account_id)
        .where(
            ContactIdentity.contact_id == contact_id,
            ContactIdentity.workspace_id == actor.workspace_id,
            visible_channels(actor, ContactIdentity.channel_account_id),
        )
        .order_by(ChannelAccount.platform, ContactIdentity.id)
    )
    return [
        IdentityView(
            id=i.id,
            platform=platform,
            channel_name=name,
            external_id=i.external_id,
            handle=i.handle,
            display_name=i.display_name,
            language=i.language,
            accepts_messages=i.accepts_messages,
            marketing_opt_in=i.marketing_opt_in,
        )
        for i, platform, name in rows
    ]
