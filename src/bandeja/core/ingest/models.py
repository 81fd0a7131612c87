from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.core.channels.models import Platform
from bandeja.storage.base import Base, BigId, IdMixin, UTCDateTime, utcnow


class RawEventStatus(enum.StrEnum):
    pending = "pending"
    processed = "processed"
    failed = "failed"


class RawEvent(IdMixin, Base):
    """A verified webhook delivery, stored before the platform gets its 2xx.

    A parser or database error never loses a message: the row stays (``failed``, with the error)
    until ``bandeja events replay`` processes it again. ``dedupe_key`` is the SHA-256 of the body,
    so a platform's retry of the same delivery is stored once.
    """

    __tablename__ = "raw_events"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    platform: Mapped[Platform] = mapped_column(Enum(Platform, native_enum=False, length=16))
    dedupe_key: Mapped[str] = mapped_column(String(64))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[RawEventStatus] = mapped_column(
        Enum(RawEventStatus, native_enum=False, length=16), default=RawEventStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not before this time: a delivery about a message not stored yet waits and is retried.
    retry_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("uq_raw_events_dedupe", "channel_account_id", "dedupe_key", unique=True),
        # The ingest worker's claim: oldest pending first; `events list --failed`.
        Index("ix_raw_events_status", "status", "id"),
    )


class IgnoredCount(Base):
    """How many platform events of each ignored kind a channel account received."""

    __tablename__ = "ignored_counts"

    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(100), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
