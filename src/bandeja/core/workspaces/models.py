from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, CreatedMixin, IdMixin


class Workspace(IdMixin, CreatedMixin, Base):
    """A tenant: every other row belongs to exactly one workspace and every query is scoped."""

    __tablename__ = "workspaces"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
