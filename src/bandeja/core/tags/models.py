from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class TagGroup(enum.StrEnum):
    """Tags are grouped so that filters and reports can ask "which type / urgency / topic"."""

    type = "type"
    urgency = "urgency"
    topic = "topic"
    other = "other"


class Tag(IdMixin, CreatedMixin, Base):
    __tablename__ = "tags"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[TagGroup] = mapped_column(
        Enum(TagGroup, native_enum=False, length=16), default=TagGroup.other
    )
    color: Mapped[str] = mapped_column(String(16), default="#6b7280")

    __table_args__ = (Index("uq_tags_workspace_name", "workspace_id", "name", unique=True),)
