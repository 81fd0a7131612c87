from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class Role(enum.StrEnum):
    owner = "owner"
    admin = "admin"
    agent = "agent"


class User(IdMixin, CreatedMixin, Base):
    """A person who logs in. The same person may belong to several workspaces."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Membership(CreatedMixin, Base):
    __tablename__ = "memberships"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))

    # Serves "which workspaces does this user belong to" at login.
    __table_args__ = (Index("ix_memberships_user", "user_id"),)


class Team(IdMixin, CreatedMixin, Base):
    __tablename__ = "teams"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("uq_teams_workspace_name", "workspace_id", "name", unique=True),)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(IdMixin, CreatedMixin, Base):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuthSession(IdMixin, CreatedMixin, Base):
    """A browser login. The cookie holds a random token; the row holds its hash and CSRF token."""

    __tablename__ = "auth_sessions"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
