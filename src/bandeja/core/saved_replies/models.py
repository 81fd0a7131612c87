from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin, UTCDateTime, utcnow


class SavedReply(IdMixin, CreatedMixin, Base):
    """A canned answer. ``owner_id`` NULL means shared with the whole workspace; otherwise only
    its owner sees and uses it."""

    __tablename__ = "saved_replies"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(100))
    # Typed after "/" in the composer; unique per workspace so that a shortcut means one thing.
    shortcut: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    variants: Mapped[list[SavedReplyVariant]] = relationship(
        cascade="all, delete-orphan",
        order_by="SavedReplyVariant.position",
        lazy="selectin",
    )

    __table_args__ = (
        # The picker lists a workspace's replies by name.
        Index("ix_saved_replies_workspace_name", "workspace_id", "name"),
        Index("uq_saved_replies_workspace_shortcut", "workspace_id", "shortcut", unique=True),
    )


class SavedReplyVariant(Base):
    """The body of a saved reply in one language (en, es, it...)."""

    __tablename__ = "saved_reply_variants"

    saved_reply_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("saved_replies.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    # Order the author gave: the first variant is the fallback when no language matches.
    position: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(Text)
