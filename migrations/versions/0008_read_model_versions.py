"""The workflow's version of each snapshot row: an older write never overwrites a newer one (decision 1)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The rows an activity rewrites as a whole snapshot; rows written once (nodes, feedback, supervision records, SMS)
# are guarded by their unique business key alone.
_TABLES = ("obligations", "extension_requests")


def upgrade() -> None:
    """Existing rows get version 0: the first versioned write of the workflow replaces them."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
