"""Agents over a case's life, party corrections audited, party logins ended (issue 10 item 4)

An agent acts for one applicant (or all of them) and is dismissed, not deleted; a party's portal logins carry its
``login_epoch``, raised to end them; every change to a case's parties is kept in ``party_changes``.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("principal_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("login_epoch", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key("fk_parties_principal_id", "parties", ["principal_id"], ["id"])
    op.create_table(
        "party_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False, index=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("old_value", sa.String(256), nullable=True),
        sa.Column("new_value", sa.String(256), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("case_id", "key", "field", name="uq_party_changes_case_key_field"),
    )


def downgrade() -> None:
    op.drop_table("party_changes")
    with op.batch_alter_table("parties") as batch:
        batch.drop_constraint("fk_parties_principal_id", type_="foreignkey")
        batch.drop_column("login_epoch")
        batch.drop_column("dismissed_at")
        batch.drop_column("principal_id")
