"""Contacts: one per person, one identity per platform account, merge across platforms."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.actions import record
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.contacts.queries import get_contact
from bandeja.core.conversations.models import Conversation
from bandeja.core.errors import InvalidInput
from bandeja.core.events import ContactsMerged, emit
from bandeja.core.messages.known import known
from bandeja.core.messages.models import Message
from bandeja.core.text import clean_text, fold
from bandeja.storage.base import utcnow
from bandeja.storage.returning import insert_returning, returning_all, table_of
from bandeja.storage.upsert import dialect_insert


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


# The ingest path runs these for nearly every delivery: built once, since building a statement
# costs more CPU than executing it.
_FIND_IDENTITY = select(ContactIdentity).where(
    ContactIdentity.channel_account_id == bindparam("channel_account_id"),
    ContactIdentity.external_id == bindparam("external_id"),
)
_INSERT_CONTACT = returning_all(insert(table_of(Contact)), Contact)


@functools.cache
def _insert_identity(dialect_name: str) -> Any:
    return returning_all(
        dialect_insert(dialect_name, table_of(ContactIdentity)).on_conflict_do_nothing(
            index_elements=["channel_account_id", "external_id"]
        ),
        ContactIdentity,
    )


async def _find_identity(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> ContactIdentity | None:
    params = {"channel_account_id": channel_account_id, "external_id": external_id}
    return (await session.execute(_FIND_IDENTITY, params)).scalar_one_or_none()


async def _create_identity(
    session: AsyncSession, workspace_id: int, channel_account_id: int, info: IdentityInfo
) -> tuple[ContactIdentity, Contact | None]:
    contact_values = {
        "workspace_id": workspace_id,
        "name": clean_text(info.best_name)[:300],
        "search_name": fold(info.best_name)[:300],
        "avatar_url": info.avatar_url,
        "language": info.language,
    }
    contact = await insert_returning(session, _INSERT_CONTACT, contact_values, Contact)
    assert contact is not None
    identity_values = {
        "workspace_id": workspace_id,
        "contact_id": contact.id,
        "channel_account_id": channel_account_id,
        "external_id": info.external_id,
        "handle": info.handle,
        "display_name": info.display_name,
        "avatar_url": info.avatar_url,
        "language": info.language,
        "accepts_messages": info.accepts_messages,
    }
    dialect = session.get_bind().dialect.name
    stmt = _insert_identity(dialect)
    identity = await insert_returning(session, stmt, identity_values, ContactIdentity)
    if identity is not None:
        return identity, contact
    # Another transaction created this identity first: ours was never seen by anyone.
    await session.execute(
        delete(Contact).where(Contact.id == contact.id),
        execution_options={"synchronize_session": False},
    )
    session.expunge(contact)
    identity = await _find_identity(session, channel_account_id, info.external_id)
    if identity is None:  # pragma: no cover - the unique index guarantees a winner
        raise RuntimeError(f"identity {info.external_id!r} conflicted but cannot be found")
    return identity, None


async def get_or_create_identity(
    session: AsyncSession, *, workspace_id: int, channel_account_id: int, info: IdentityInfo
) -> ContactIdentity:
    """The identity (and its contact) for this person on this channel account; created once."""
    identity, _ = await identify(
        session, workspace_id=workspace_id, channel_account_id=channel_account_id, info=info
    )
    return identity


async def identify(
    session: AsyncSession, *, workspace_id: int, channel_account_id: int, info: IdentityInfo
) -> tuple[ContactIdentity, Contact | None]:
    """The identity for this person on this channel account, created once with its contact;
    and that contact when this call created it (the session holds loaded rows weakly: the
    caller keeps it for what it does next, such as naming a new conversation).

    Two webhooks about a new person can arrive at the same instant (two workers). Both insert a
    contact, then the identity with ``ON CONFLICT DO NOTHING``: the unique index lets one win (on
    PostgreSQL the other's insert waits for the winner's commit), and the loser removes its own
    contact and reads the winner's identity. No SAVEPOINT: the ingest worker applies a whole
    batch in one transaction without them.
    """
    info = replace(
        info,
        external_id=clean_text(info.external_id),
        display_name=clean_text(info.display_name) if info.display_name else None,
        handle=clean_text(info.handle) if info.handle else None,
    )
    batch = known(session)
    looked_up, identity = (
        batch.identity((channel_account_id, info.external_id))
        if batch is not None
        else (False, None)
    )
    if not looked_up:
        identity = await _find_identity(session, channel_account_id, info.external_id)
    if identity is None:
        identity, contact = await _create_identity(session, workspace_id, channel_account_id, info)
        if batch is not None:
            batch.add_identity(identity)
        return identity, contact
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
    return identity, None


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
