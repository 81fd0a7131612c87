"""Saved replies and their per-language variants.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bandeja.storage.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=True),
        sa.Column("updated_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", _ID, nullable=False),
        sa.Column("created_at", bandeja.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_saved_replies_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_saved_replies_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_saved_replies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_replies")),
    )
    op.create_index(
        "ix_saved_replies_workspace_name", "saved_replies", ["workspace_id", "name"], unique=False
    )
    op.create_index(
        "uq_saved_replies_workspace_shortcut",
        "saved_replies",
        ["workspace_id", "shortcut"],
        unique=True,
    )
    op.create_table(
        "saved_reply_variants",
        sa.Column("saved_reply_id", _ID, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["saved_reply_id"],
            ["saved_replies.id"],
            name=op.f("fk_saved_reply_variants_saved_reply_id_saved_replies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saved_reply_id", "language", name=op.f("pk_saved_reply_variants")),
    )


def downgrade() -> None:
    op.drop_table("saved_reply_variants")
    op.drop_index("uq_saved_replies_workspace_shortcut", table_name="saved_replies")
    op.drop_index("ix_saved_replies_workspace_name", table_name="saved_replies")
    op.drop_table("saved_replies")
