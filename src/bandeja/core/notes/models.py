from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class Note(IdMixin, CreatedMixin, Base):
    """An internal note on a conversation: seen by the team, never sent to the contact."""

    __tablename__ = "notes"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_notes_conversation", "conversation_id", "id"),)


class NoteMention(Base):
    __tablename__ = "note_mentions"

    note_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    # "Notes that mention me", for notifications.
    __table_args__ = (Index("ix_note_mentions_user", "user_id", "note_id"),)
