from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin, JsonDoc


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class AuthorType(enum.StrEnum):
    contact = "contact"
    user = "user"
    bot = "bot"
    # Sent from the platform's native app, outside Bandeja (an echo we did not originate).
    external = "external"


class DeliveryStatus(enum.StrEnum):
    """Outbound delivery. Ordered: a status only ever moves forward (see ``STATUS_RANK``)."""

    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    received = "received"  # inbound messages


STATUS_RANK = {
    DeliveryStatus.queued: 0,
    DeliveryStatus.failed: 1,
    DeliveryStatus.sent: 2,
    DeliveryStatus.delivered: 3,
    DeliveryStatus.read: 4,
    DeliveryStatus.received: 4,
}


class Message(IdMixin, CreatedMixin, Base):
    __tablename__ = "messages"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=16))
    author_type: Mapped[AuthorType] = mapped_column(Enum(AuthorType, native_enum=False, length=16))
    author_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    author_contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"type": "image", "url": ..., "mime_type": ..., "name": ..., "size": ...}, ...]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    external_id: Mapped[str | None] = mapped_column(String(300))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(300))
    # The platform's timestamp: threads are ordered by it, not by arrival.
    sent_at: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16)
    )
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    is_private_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    reactions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hidden_at: Mapped[datetime | None]
    # A private reply was sent to this comment (Messenger/Instagram allow one, within 7 days).
    private_replied_at: Mapped[datetime | None]
    # Platform details worth keeping: quick-reply or postback payloads, referrals, message tags.
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        # Idempotent ingest: a platform message id is stored once per channel account.
        Index(
            "uq_messages_external",
            "channel_account_id",
            "external_id",
            unique=True,
            postgresql_where=sql_text("external_id IS NOT NULL"),
            sqlite_where=sql_text("external_id IS NOT NULL"),
        ),
        # Opening a conversation: its messages newest first, keyset on (sent_at, id).
        Index("ix_messages_thread", "conversation_id", "sent_at", "id"),
    )
