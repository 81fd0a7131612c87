from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class View(IdMixin, CreatedMixin, Base):
    """A saved inbox filter: personal to its owner, or shared with the whole workspace.

    ``filters`` is a ``ConversationFilter`` document, the same language as the list's filters.
    """

    __tablename__ = "views"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_views_workspace_owner", "workspace_id", "owner_id"),)
