"""What an ingest batch already knows: the rows its messages are about, read in three statements
before the batch is applied, instead of three look-ups per message (is the message stored, whose
identity is the sender, which conversation is the thread) before its one insert.

A miss is only a hint. Another worker may insert the row a moment later, and every insert that
follows a miss is ``INSERT … ON CONFLICT DO NOTHING`` and then a read, as without this. Rows the
batch inserts itself are added as it goes. It holds for one transaction without SAVEPOINTs: a
rolled-back SAVEPOINT would leave entries for rows that no longer exist, so the ingest worker
does not use it when it isolates a delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.messages.models import Message

_KEY = "bandeja.ingest.known"

IdentityKey = tuple[int, str]  # channel account, the person's platform id
ThreadKey = tuple[int, Kind, str]  # channel account, kind, thread key
MessageKey = tuple[int, str]  # channel account, the message's platform id


@dataclass(frozen=True, slots=True)
class Wanted:
    """One inbound message of the batch: what its application will look up."""

    message: MessageKey | None
    identity: IdentityKey
    thread: ThreadKey


@dataclass
class Known:
    # Looked up (present or absent), and what was found. Found rows are held here strongly: the
    # session's identity map keeps unchanged rows only weakly.
    message_keys: set[MessageKey] = field(default_factory=set)
    messages: set[MessageKey] = field(default_factory=set)
    identity_keys: set[IdentityKey] = field(default_factory=set)
    identities: dict[IdentityKey, ContactIdentity] = field(default_factory=dict)
    thread_keys: set[ThreadKey] = field(default_factory=set)
    conversations: dict[ThreadKey, Conversation] = field(default_factory=dict)

    def message_absent(self, key: MessageKey) -> bool:
        return key in self.message_keys and key not in self.messages

    def identity(self, key: IdentityKey) -> tuple[bool, ContactIdentity | None]:
        """(looked up, the identity found)."""
        return key in self.identity_keys, self.identities.get(key)

    def conversation(self, key: ThreadKey) -> tuple[bool, Conversation | None]:
        """(looked up, the conversation found, locked for the transaction)."""
        return key in self.thread_keys, self.conversations.get(key)

    def add_message(self, key: MessageKey) -> None:
        self.message_keys.add(key)
        self.messages.add(key)

    def add_identity(self, identity: ContactIdentity) -> None:
        key = (identity.channel_account_id, identity.external_id)
        self.identity_keys.add(key)
        self.identities[key] = identity

    def add_conversation(self, conversation: Conversation) -> None:
        assert conversation.thread_key is not None
        key = (conversation.channel_account_id, conversation.kind, conversation.thread_key)
        self.thread_keys.add(key)
        self.conversations[key] = conversation


def known(session: AsyncSession) -> Known | None:
    """What the session's batch knows; None outside a batch (every look-up is made)."""
    found = session.info.get(_KEY)
    assert found is None or isinstance(found, Known)
    return found


def forget(session: AsyncSession) -> None:
    session.info.pop(_KEY, None)


async def prefetch(session: AsyncSession, wanted: Iterable[Wanted]) -> Known:
    """Read what ``wanted`` will look up, in three statements, and keep it for the session's
    transaction. The conversations are locked (``FOR UPDATE``) in id order, as their writers
    lock them one by one."""
    wanted = list(wanted)
    found = Known(
        message_keys={w.message for w in wanted if w.message is not None},
        identity_keys={w.identity for w in wanted},
        thread_keys={w.thread for w in wanted},
    )
    if found.message_keys:
        rows = await session.execute(
            select(Message.channel_account_id, Message.external_id).where(
                tuple_(Message.channel_account_id, Message.external_id).in_(found.message_keys),
                # The predicate of the partial unique index this look-up uses.
                Message.external_id.is_not(None),
            )
        )
        found.messages = {(c, e) for c, e in rows if e is not None}
    if found.identity_keys:
        identities = await session.execute(
            select(ContactIdentity).where(
                tuple_(ContactIdentity.channel_account_id, ContactIdentity.external_id).in_(
                    found.identity_keys
                )
            )
        )
        for identity in identities.scalars():
            found.add_identity(identity)
    if found.thread_keys:
        conversations = await session.execute(
            select(Conversation)
            .where(
                # Each column's list lets PostgreSQL search uq_conversations_thread on all three
                # columns; the row comparison alone, when the kinds are alike, made it search on
                # the kind only and filter the rest. The row comparison then drops the
                # combinations nobody wants before they are locked.
                Conversation.channel_account_id.in_({k[0] for k in found.thread_keys}),
                Conversation.kind.in_({k[1] for k in found.thread_keys}),
                Conversation.thread_key.in_({k[2] for k in found.thread_keys}),
                tuple_(
                    Conversation.channel_account_id, Conversation.kind, Conversation.thread_key
                ).in_(found.thread_keys),
            )
            .order_by(Conversation.id)
            .with_for_update()
        )
        for conversation in conversations.scalars():
            found.add_conversation(conversation)
    session.info[_KEY] = found
    return found
