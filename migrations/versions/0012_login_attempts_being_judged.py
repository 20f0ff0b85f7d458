"""Login attempts being judged (issue 9 items 3, 4)

An attempt is recorded before its secret is checked (api/throttle.py) and marked ``pending`` while it is judged;
then it is a failure, or deleted if it was good. Rows written before were failures.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("portal_login_failures", "staff_login_failures")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("pending")
