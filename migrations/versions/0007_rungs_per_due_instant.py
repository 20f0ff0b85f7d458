"""A ladder rung fires once per obligation and due instant: a deadline that moves re-arms the rungs ahead of it

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = ("case_id", "obligation_id", "rung", "staff_id")
_NEW = ("case_id", "obligation_id", "rung", "due_at", "staff_id")


def upgrade() -> None:
    with op.batch_alter_table("sms_messages") as batch:  # a rung's reason now names its due instant
        batch.alter_column("reason", type_=sa.String(128), existing_type=sa.String(64), existing_nullable=False)
    with op.batch_alter_table("supervision_records") as batch:
        batch.drop_constraint("uq_supervision_rung_staff", type_="unique")
        batch.create_unique_constraint("uq_supervision_rung_due_staff", list(_NEW))


def downgrade() -> None:
    """Keeps the newest record of each rung per staff member: the old key allows one."""
    op.execute(
        "DELETE FROM supervision_records WHERE id NOT IN ("
        " SELECT MAX(id) FROM supervision_records GROUP BY case_id, obligation_id, rung, staff_id)"
    )
    with op.batch_alter_table("supervision_records") as batch:
        batch.drop_constraint("uq_supervision_rung_due_staff", type_="unique")
        batch.create_unique_constraint("uq_supervision_rung_staff", list(_OLD))
    with op.batch_alter_table("sms_messages") as batch:
        batch.alter_column("reason", type_=sa.String(64), existing_type=sa.String(128), existing_nullable=False)
