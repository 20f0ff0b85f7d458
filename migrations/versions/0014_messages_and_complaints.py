"""Parties' messages and complaints with their replies (issue 10 item 2)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "party_messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("request_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_hash", sa.String(64), nullable=True),
        sa.Column("reply_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("party_id", "request_key", name="uq_party_messages_party_key"),
    )
    op.create_index("ix_party_messages_case_id", "party_messages", ["case_id"])
    op.create_index("ix_party_messages_party_id", "party_messages", ["party_id"])
    op.create_index("ix_party_messages_undelivered", "party_messages", ["delivered_at", "created_at"])
    op.create_table(
        "message_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(36), sa.ForeignKey("party_messages.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )
    op.create_index("ix_message_attachments_message_id", "message_attachments", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_message_attachments_message_id", table_name="message_attachments")
    op.drop_table("message_attachments")
    op.drop_index("ix_party_messages_undelivered", table_name="party_messages")
    op.drop_index("ix_party_messages_party_id", table_name="party_messages")
    op.drop_index("ix_party_messages_case_id", table_name="party_messages")
    op.drop_table("party_messages")
