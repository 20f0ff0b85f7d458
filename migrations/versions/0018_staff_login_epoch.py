"""A reset password ends the account's logins (staff.login_epoch)

A staff token carries the account's login epoch; resetting the password raises it, so every token issued before is
refused at once, as a party's are when the case's logins end (0016).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("login_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("login_epoch")
