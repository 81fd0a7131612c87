"""The conversation's status on its tag rows, indexed with the tag.

"Open conversations tagged X" then walks only the open ones instead of every conversation that
ever had the tag (see core/conversations/tag_status.py, which keeps the copy equal).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "open", "follow_up", "complete", name="status", native_enum=False, length=16
                ),
                server_default="open",
                nullable=False,
            )
        )
    op.execute(
        "UPDATE conversation_tags SET status = (SELECT conversations.status FROM conversations"
        " WHERE conversations.id = conversation_tags.conversation_id)"
    )
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_tags_tag")
        batch_op.create_index(
            "ix_conversation_tags_tag_status", ["tag_id", "status", "conversation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_tags_tag_status")
        batch_op.create_index(
            "ix_conversation_tags_tag", ["tag_id", "conversation_id"], unique=False
        )
        batch_op.drop_column("status")
