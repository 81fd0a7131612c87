"""Contacts: one per person, one identity per platform account, merge across platforms."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.actions import record
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.contacts.queries import get_contact
from bandeja.core.conversations.models import Conversation
from bandeja.core.errors import InvalidInput
from bandeja.core.events import ContactsMerged, emit
from bandeja.core.messages.models import Message
from bandeja.core.text import clean_text, fold
from bandeja.storage.base import utcnow


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """What a platform tells us about a person."""

    external_id: str
    display_name: str | None = None
    handle: str | None = None
    avatar_url: str | None = None
    language: str | None = None
    # X ``receives_your_dm``: whether the person accepts DMs from the account (None: not said).
    accepts_messages: bool | None = None

    @property
    def best_name(self) -> str:
        return self.display_name or (f"@{self.handle}" if self.handle else self.external_id)


async def _find_identity(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> ContactIdentity | None:
    return (
        await session.execute(
            select(ContactIdentity).where(
                ContactIdentity.channel_account_id == channel_account_id,
                ContactIdentity.external_id == external_id,
            )
        )
    ).scalar_one_or_none()


async def get_or_create_identity(
    session: AsyncSession, *, workspace_id: int, channel_account_id: int, info: IdentityInfo
) -> ContactIdentity:
    """The identity (and its contact) for this person on this channel account; created once.

    Two webhooks about a new person can arrive at the same instant. Both try to insert; the
    unique index lets one win, and the loser's savepoint rolls back its contact too, then it reads
    the winner's row.
    """
    info = replace(
        info,
        external_id=clean_text(info.external_id),
        display_name=clean_text(info.display_name) if info.display_name else None,
        handle=clean_text(info.handle) if info.handle else None,
    )
    identity = await _find_identity(session, channel_account_id, info.external_id)
    if identity is None:
        try:
            async with session.begin_nested():
                contact = Contact(
                    workspace_id=workspace_id,
                    name=clean_text(info.best_name)[:300],
                    search_name=fold(info.best_name)[:300],
                    avatar_url=info.avatar_url,
                    language=info.language,
                )
                session.add(contact)
                await session.flush()
                identity = ContactIdentity(
                    workspace_id=workspace_id,
                    contact_id=contact.id,
                    channel_account_id=channel_account_id,
                    external_id=info.external_id,
                    handle=info.handle,
                    display_name=info.display_name,
                    avatar_url=info.avatar_url,
                    language=info.language,
                    accepts_messages=info.accepts_messages,
                )
                session.add(identity)
                await session.flush()
        except IntegrityError:
            identity = await _find_identity(session, channel_account_id, info.external_id)
            if identity is None:  # pragma: no cover - the unique index guarantees a winner
                raise
        return identity
    # Profiles change (new avatar, new name): keep the identity current, never blank it out.
    before = IdentityInfo(
        external_id=identity.external_id, display_name=identity.display_name, handle=identity.handle
    ).best_name
    for field in ("handle", "display_name", "avatar_url", "language"):
        value = getattr(info, field)
        if value and getattr(identity, field) != value:
            setattr(identity, field, value)
    if info.accepts_messages is not None and identity.accepts_messages != info.accepts_messages:
        identity.accepts_messages = info.accepts_messages
    after = IdentityInfo(
        external_id=identity.external_id, display_name=identity.display_name, handle=identity.handle
    ).best_name
    if after != before:
        # The contact still carries the name the platform gave first (often a bare id, before
        # the profile could be read): follow the platform. A name a person typed is kept.
        named = await session.get(Contact, identity.contact_id)
        if named is not None and named.name == before:
            named.name = clean_text(after)[:300]
            named.search_name = fold(named.name)
    return identity


async def update_contact(
    session: AsyncSession,
    actor: Actor,
    contact_id: int,
    *,
    name: str | None = None,
    language: str | None = None,
) -> Contact:
    contact = await get_contact(session, actor, contact_id)
    if name is not None:
        if not name.strip():
            raise InvalidInput("name cannot be empty")
        contact.name = clean_text(name).strip()
        contact.search_name = fold(contact.name)
    if language is not None:
        contact.language = language
    contact.updated_at = utcnow()
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="contact.updated",
        actor_user_id=actor.user_id,
        contact_id=contact.id,
    )
    return contact


async def merge_contacts(
    session: AsyncSession, actor: Actor, target_id: int, source_id: int
) -> Contact:
    """Move the identities, conversations and messages of ``source`` onto ``target``; delete it."""
    if target_id == source_id:
        raise InvalidInput("cannot merge a contact into itself")
    target = await get_contact(session, actor, target_id)
    source = await get_contact(session, actor, source_id)
    await session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == source.id)
        .values(contact_id=target.id)
    )
    # Through the ORM is not needed here: contact_id is not part of any counter cell.
    await session.execute(
        update(Conversation)
        .where(Conversation.contact_id == source.id)
        .values(contact_id=target.id)
    )
    await session.execute(
        update(Message)
        .where(Message.author_contact_id == source.id)
        .values(author_contact_id=target.id)
    )
    if not target.avatar_url and source.avatar_url:
        target.avatar_url = source.avatar_url
    if not target.language and source.language:
        target.language = source.language
    target.updated_at = utcnow()
    await session.delete(source)
    record(
        session,
        workspace_id=actor.workspace_id,
        verb="contact.merged",
        actor_user_id=actor.user_id,
        contact_id=target.id,
        merged_contact_id=source_id,
        merged_name=source.name,
    )
    emit(
        session,
        ContactsMerged(
            workspace_id=actor.workspace_id,
            actor_user_id=actor.user_id,
            contact_id=target.id,
            merged_contact_id=source_id,
        ),
    )
    return target
