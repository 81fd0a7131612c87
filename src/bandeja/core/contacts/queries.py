from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.contacts.schemas import ContactDetail, ContactOut, IdentityOut
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.models import Conversation
from bandeja.core.conversations.queries import list_conversations
from bandeja.core.errors import InvalidInput, NotFound
from bandeja.core.text import fold


def _visible_contact(actor: Actor) -> ColumnElement[bool]:
    """Agents see contacts who have a conversation on a channel account they can see."""
    if actor.is_admin:
        return true()
    return exists().where(
        Conversation.contact_id == Contact.id,
        visible_channels(actor, Conversation.channel_account_id),
    )


async def get_contact(session: AsyncSession, actor: Actor, contact_id: int) -> Contact:
    """The contact if ``actor`` may see it; invisible and missing look the same (404)."""
    contact = (
        await session.execute(
            select(Contact).where(
                Contact.id == contact_id,
                Contact.workspace_id == actor.workspace_id,
                _visible_contact(actor),
            )
        )
    ).scalar_one_or_none()
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


async def search_contacts(
    session: AsyncSession, actor: Actor, q: str | None, limit: int = 50
) -> list[ContactOut]:
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200")
    stmt = select(Contact).where(
        Contact.workspace_id == actor.workspace_id, _visible_contact(actor)
    )
    if q and fold(q).strip():
        stmt = stmt.where(Contact.search_name.contains(fold(q).strip(), autoescape=True))
    rows = (await session.execute(stmt.order_by(Contact.name, Contact.id).limit(limit))).scalars()
    return [ContactOut.model_validate(c) for c in rows]


async def identity_labels(
    session: AsyncSession, actor: Actor, contact_ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    """Per contact, (platform, handle or display name) of its identities on the channel accounts
    the actor can see: what tells apart two people of the same name (the merge search)."""
    if not contact_ids:
        return {}
    rows = await session.execute(
        select(
            ContactIdentity.contact_id,
            ChannelAccount.platform,
            ContactIdentity.handle,
            ContactIdentity.display_name,
            ContactIdentity.external_id,
        )
        .join(ChannelAccount, ChannelAccount.id == ContactIdentity.channel_account_id)
        .where(
            ContactIdentity.workspace_id == actor.workspace_id,
            ContactIdentity.contact_id.in_(contact_ids),
            visible_channels(actor, ContactIdentity.channel_account_id),
        )
        .order_by(ContactIdentity.id)
    )
    labels: dict[int, list[tuple[str, str]]] = {}
    for contact_id, platform, handle, display_name, external_id in rows:
        labels.setdefault(contact_id, []).append(
            (platform.value, handle or display_name or external_id)
        )
    return labels


async def contact_detail(session: AsyncSession, actor: Actor, contact_id: int) -> ContactDetail:
    contact = await get_contact(session, actor, contact_id)
    identities = (
        await session.execute(
            select(ContactIdentity, ChannelAccount.platform)
            .join(ChannelAccount, ChannelAccount.id == ContactIdentity.channel_account_id)
            .where(
                ContactIdentity.contact_id == contact_id,
                # Agents see the person's identities on the channel accounts they can see.
                visible_channels(actor, ContactIdentity.channel_account_id),
            )
            .order_by(ContactIdentity.id)
        )
    ).all()
    history = await list_conversations(
        session, actor, ConversationFilter(contact_id=contact_id), limit=50, with_counts=False
    )
    return ContactDetail(
        id=contact.id,
        name=contact.name,
        avatar_url=contact.avatar_url,
        language=contact.language,
        created_at=contact.created_at,
        identities=[
            IdentityOut(
                id=i.id,
                channel_account_id=i.channel_account_id,
                platform=platform,
                external_id=i.external_id,
                handle=i.handle,
                display_name=i.display_name,
                avatar_url=i.avatar_url,
                language=i.language,
            )
            for i, platform in identities
        ],
        conversations=history.items,
    )
