from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class Activity(IdMixin, CreatedMixin, Base):
    """The audit trail: who did what, when. Written by the same transaction as the change."""

    __tablename__ = "activities"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    actor_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    verb: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_activities_conversation", "conversation_id", "id"),
        Index("ix_activities_workspace", "workspace_id", "id"),
    )
