"""终本 exception requests share the approvals table; a restored case links to the one it restores

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("extension_requests") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="extension"))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("restored_from", sa.String(36), nullable=True))
        batch.create_foreign_key("fk_cases_restored_from", "cases", ["restored_from"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_restored_from", type_="foreignkey")
        batch.drop_column("restored_from")
    with op.batch_alter_table("extension_requests") as batch:
        batch.drop_column("kind")
