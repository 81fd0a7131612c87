from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bandeja.storage.base import Base, BigId, CreatedMixin, IdMixin


class Contact(IdMixin, CreatedMixin, Base):
    """A customer. One contact may have identities on several platforms (after a merge)."""

    __tablename__ = "contacts"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(300))
    # The name lower-cased and without accents ("José" → "jose"), for contact search.
    search_name: Mapped[str] = mapped_column(String(300), default="")
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_contacts_workspace_name", "workspace_id", "name"),)


class ContactIdentity(IdMixin, CreatedMixin, Base):
    """A contact as one platform account knows them (PSID, IGSID, phone number, user id, ...)."""

    __tablename__ = "contact_identities"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_accounts.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(300))
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str | None] = mapped_column(String(8))
    # X: whether this person accepts DMs from the account (``receives_your_dm``); None: unknown.
    accepts_messages: Mapped[bool | None]
    # Marketing consent as the platform reported it (WhatsApp user_preferences, Messenger
    # opt-ins); None: never said. The consent ledger builds on this.
    marketing_opt_in: Mapped[bool | None]
    marketing_updated_at: Mapped[datetime | None]

    __table_args__ = (
        # One identity per person per channel account, even under concurrent first webhooks.
        Index(
            "uq_contact_identities_account_external",
            "channel_account_id",
            "external_id",
            unique=True,
        ),
        Index("ix_contact_identities_contact", "contact_id"),
    )
