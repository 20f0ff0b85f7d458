"""public lists, feedback and follow-up

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # public lists (seed 002 第一条, 第十二条): one row per (case, list, respondent), masked copies only
    op.create_table(
        "public_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("id_number_masked", sa.String(length=32), nullable=True),
        sa.Column("address_masked", sa.String(length=128), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_node_id", sa.String(length=36), nullable=True),
        sa.Column("masked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "list_name", "party_id", name="uq_public_list_case_list_party"),
    )
    with op.batch_alter_table("public_list_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_list_entries_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_public_list_status", ["list_name", "status", "since"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("public_list_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_public_list_status")
        batch_op.drop_index(batch_op.f("ix_public_list_entries_case_id"))
    op.drop_table("public_list_entries")
