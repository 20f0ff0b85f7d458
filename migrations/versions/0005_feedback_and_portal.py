"""progress feedback, party portal, end of online query

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # parties' online query ends 1 month after closure (seed 002 第四条), set by the workflow at closure
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("query_ends_at", sa.DateTime(timezone=True), nullable=True))
    # progress feedback (seed 002 第五条) and the applicant's reply
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("applicant_tasks", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by_party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=True),
        sa.Index("ix_feedback_case_request", "case_id", "request_id"),
    )
    # failed party logins (seed 001 第九条): a limit on guessing query codes
    op.create_table(
        "portal_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_portal_login_failures_key_at", "key", "at"),
    )


def downgrade() -> None:
    op.drop_table("portal_login_failures")
    op.drop_table("feedback")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("query_ends_at")
