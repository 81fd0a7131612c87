from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin, UTCDateTime, utcnow


class Kind(enum.StrEnum):
    dm = "dm"
    comment = "comment"
    mention = "mention"


class Status(enum.StrEnum):
    open = "open"
    follow_up = "follow_up"
    complete = "complete"


class Priority(enum.IntEnum):
    none = 0
    low = 1
    medium = 2
    high = 3
    urgent = 4


class Conversation(IdMixin, CreatedMixin, Base):
    """One thread with one contact on one channel account: a DM thread, a comment thread, a mention.

    ``thread_key`` is the platform's notion of the thread (the contact's id for DMs, the root
    comment or post for comments, the mentioning post for mentions); it makes ingest idempotent.
    ``search_document`` holds the folded contact name and message texts for text search.
    """

    __tablename__ = "conversations"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"))
    kind: Mapped[Kind] = mapped_column(Enum(Kind, native_enum=False, length=16))
    thread_key: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(Text)
    post_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=16), default=Status.open
    )
    follow_up_until: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    priority: Mapped[int] = mapped_column(SmallInteger, default=int(Priority.none))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_inbound_at: Mapped[datetime | None]
    # When the latest inbound message reached Bandeja (server time). Read state compares with
    # this, not with the platform's timestamp: a message written before I read the thread but
    # delivered after must still make it unread.
    last_inbound_received_at: Mapped[datetime | None]
    last_outbound_at: Mapped[datetime | None]
    last_message_preview: Mapped[str] = mapped_column(String(300), default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    search_document: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("uq_conversations_thread", "channel_account_id", "kind", "thread_key", unique=True),
        # The inbox list: a status, newest (or oldest) activity first, keyset on (time, id).
        Index("ix_conversations_inbox", "workspace_id", "status", "last_activity_at", "id"),
        # "All" lists with no status filter, and date ranges.
        Index("ix_conversations_activity", "workspace_id", "last_activity_at", "id"),
        # "Mine" and "assigned to X": equality on assignee, then the same order.
        Index(
            "ix_conversations_assignee",
            "workspace_id",
            "assignee_id",
            "status",
            "last_activity_at",
            "id",
        ),
        # The unassigned queue. `assignee_id IS NULL` cannot use the composite index above for
        # ordering on PostgreSQL; a partial index keeps it a straight index walk.
        Index(
            "ix_conversations_unassigned",
            "workspace_id",
            "status",
            "last_activity_at",
            "id",
            postgresql_where=text("assignee_id IS NULL"),
            sqlite_where=text("assignee_id IS NULL"),
        ),
        # Lists restricted to a few channel accounts (agents, platform filters).
        Index("ix_conversations_channel", "channel_account_id", "status", "last_activity_at", "id"),
        # A contact's history across channels.
        Index("ix_conversations_contact", "contact_id", "last_activity_at"),
        # The follow-up job: which follow-ups are due.
        Index("ix_conversations_follow_up", "status", "follow_up_until"),
    )


class ConversationTag(Base):
    __tablename__ = "conversation_tags"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )

    # The conversation's status, kept equal by the flush hook of ``tag_status``: a tag filter
    # with a status walks only the matching rows of the index, then fetches those conversations.
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=16),
        default=Status.open,
        server_default=Status.open.value,
    )

    __table_args__ = (
        Index("ix_conversation_tags_tag_status", "tag_id", "status", "conversation_id"),
    )


class ConversationRead(Base):
    """Read state per agent: read when ``read_at`` is at or after the arrival of the last
    inbound message (``Conversation.last_inbound_received_at``)."""

    __tablename__ = "conversation_reads"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime]


class ConversationCount(Base):
    """Live counters behind the view counts, kept by the ORM flush hook in ``counters.py``.

    Counting a status over a million conversations takes tens of milliseconds however it is
    indexed; summing these few rows takes well under one. ``assignee_id`` 0 means unassigned
    (a NULL would never conflict in the upsert).
    """

    __tablename__ = "conversation_counts"

    workspace_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_account_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    assignee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
