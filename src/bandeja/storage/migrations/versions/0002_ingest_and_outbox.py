"""Raw webhook events, the outbox, marketing consent on identities, message details, inbound
arrival times (read state) and folded contact names (search).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:33:38.290499
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bandeja.storage.base


def fold(text: str) -> str:
    """A frozen copy of ``core.text.fold`` (a migration must not change when the code does)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ignored_counts",
        sa.Column(
            "channel_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("last_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_ignored_counts_channel_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_account_id", "reason", name=op.f("pk_ignored_counts")),
    )
    op.create_table(
        "raw_events",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "channel_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "platform",
            sa.Enum(
                "messenger",
                "instagram",
                "whatsapp",
                "x",
                "linkedin",
                "telegram",
                "sandbox",
                name="platform",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "processed",
                "failed",
                name="raweventstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("processed_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_raw_events_channel_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_raw_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_events")),
    )
    with op.batch_alter_table("raw_events", schema=None) as batch_op:
        batch_op.create_index("ix_raw_events_status", ["status", "id"], unique=False)
        batch_op.create_index(
            "uq_raw_events_dedupe", ["channel_account_id", "dedupe_key"], unique=True
        )

    op.create_table(
        "send_jobs",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "channel_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "done",
                "failed",
                name="sendstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lease_until", bandeja.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_send_jobs_channel_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_send_jobs_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_send_jobs_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_send_jobs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_jobs")),
        sa.UniqueConstraint("message_id", name=op.f("uq_send_jobs_message_id")),
    )
    with op.batch_alter_table("send_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_send_jobs_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("uq_send_jobs_key", ["workspace_id", "idempotency_key"], unique=True)

    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepts_messages", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("marketing_opt_in", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "marketing_updated_at",
                bandeja.storage.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hidden_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "private_replied_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        # Existing rows get an empty object; new rows get one from the model.
        batch_op.add_column(
            sa.Column(
                "extra",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_inbound_received_at",
                bandeja.storage.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_name", sa.String(length=300), nullable=False, server_default="")
        )
    # Accent folding is Python's, so existing names are folded here, not in SQL.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name FROM contacts")).all()
    for contact_id, name in rows:
        bind.execute(
            sa.text("UPDATE contacts SET search_name = :folded WHERE id = :id"),
            {"folded": fold(name)[:300], "id": contact_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("search_name")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("last_inbound_received_at")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("extra")
        batch_op.drop_column("private_replied_at")
        batch_op.drop_column("hidden_at")

    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.drop_column("marketing_updated_at")
        batch_op.drop_column("marketing_opt_in")
        batch_op.drop_column("accepts_messages")

    with op.batch_alter_table("send_jobs", schema=None) as batch_op:
        batch_op.drop_index("uq_send_jobs_key")
        batch_op.drop_index("ix_send_jobs_due")

    op.drop_table("send_jobs")
    with op.batch_alter_table("raw_events", schema=None) as batch_op:
        batch_op.drop_index("uq_raw_events_dedupe")
        batch_op.drop_index("ix_raw_events_status")

    op.drop_table("raw_events")
    op.drop_table("ignored_counts")
