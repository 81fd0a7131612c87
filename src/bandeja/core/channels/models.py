from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class Platform(enum.StrEnum):
    messenger = "messenger"
    instagram = "instagram"
    whatsapp = "whatsapp"
    x = "x"
    linkedin = "linkedin"
    telegram = "telegram"


class ChannelAccount(IdMixin, CreatedMixin, Base):
    """One connected profile: a Facebook Page, an Instagram account, a WhatsApp number, ..."""

    __tablename__ = "channel_accounts"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    platform: Mapped[Platform] = mapped_column(Enum(Platform, native_enum=False, length=16))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    # Fernet-encrypted JSON of the platform secrets (signing secret, tokens); never logged.
    credentials_sealed: Mapped[str | None] = mapped_column(Text)
    # Non-secret settings: API base URL, HUMAN_AGENT tag enabled, ...
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_event_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]

    __table_args__ = (
        # A platform account is connected once per workspace; webhooks look it up by this.
        Index(
            "uq_channel_accounts_platform_external",
            "workspace_id",
            "platform",
            "external_id",
            unique=True,
        ),
    )


class ChannelMember(Base):
    """Agents see the conversations of the channel accounts they are members of."""

    __tablename__ = "channel_members"

    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    # Serves the agent scope sub-query "channel accounts of user X".
    __table_args__ = (Index("ix_channel_members_user", "user_id", "channel_account_id"),)
