from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin, UTCDateTime, utcnow


class SendStatus(enum.StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    sending = "sending"  # a worker holds it until lease_until
    done = "done"
    failed = "failed"  # final, until an agent retries it


class SendJob(IdMixin, CreatedMixin, Base):
    """The outbox: one row per outbound message, written in the same transaction as the message.

    ``idempotency_key`` is unique per workspace: a double submission of the same reply finds the
    existing job instead of creating a second message. A job whose worker died while sending is
    never re-sent blindly (the platform may have accepted it): it fails with ``delivery_unknown``
    and the agent decides.
    """

    __tablename__ = "send_jobs"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[SendStatus] = mapped_column(
        Enum(SendStatus, native_enum=False, length=16), default=SendStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None]
    # What the connector needs beyond the message: private reply target, message tag, template.
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("uq_send_jobs_key", "workspace_id", "idempotency_key", unique=True),
        # The send worker's claim: due pending jobs; and expired leases.
        Index("ix_send_jobs_due", "status", "next_attempt_at"),
    )
