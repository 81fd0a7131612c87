from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin, UTCDateTime


class NotificationKind(enum.StrEnum):
    mention = "mention"  # a teammate @mentioned me in a note
    assignment = "assignment"  # a teammate assigned a conversation to me


class Notification(IdMixin, CreatedMixin, Base):
    """Something a teammate did that concerns one agent; read state is that agent's alone."""

    __tablename__ = "notifications"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(NotificationKind, native_enum=False, length=16)
    )
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    note_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notes.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # "My notifications, newest first" (the list, paged by id).
        Index("ix_notifications_user", "workspace_id", "user_id", "id"),
        # The unread badge: counts only the unread rows of one user.
        Index(
            "ix_notifications_unread",
            "workspace_id",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )
