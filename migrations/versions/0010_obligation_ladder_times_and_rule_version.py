"""Obligations show their ladder; a case keeps the rule set it was filed under

``obligations.remind_at`` (the handler's reminder) and ``obligations.warn_at`` (the bureau chief's warning) are the
ladder times the workflow computes on the working-day calendar beside ``due_at`` (seed 004). Rows written before
are left empty: the workflow's next snapshot of the obligation fills them, and the API shows them as unknown.

``cases.rule_version`` is the rule set a case was filed under (domain/rules.py): the API's guard checks a case by
its own rules, as its workflow does. Every case filed before this revision was filed under 2026.1, the only
version there was.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FIRST_RULE_VERSION = "2026.1"  # the rule set every earlier case was filed under


def upgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("rule_version", sa.String(16), nullable=False, server_default=FIRST_RULE_VERSION)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("rule_version")
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("warn_at")
        batch.drop_column("remind_at")
