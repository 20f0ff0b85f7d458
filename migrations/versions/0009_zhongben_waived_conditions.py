"""The conditions a 终本 exception waives, apart from the decider's note (issue 8 defect 6)

A 终本 exception request kept its unmet conditions in ``note``, joined by "；", and the approval wrote the bureau
chief's note over them. The conditions now have their own column and ``note`` is the decider's note alone. A
request still pending kept its conditions in ``note``: they move to ``waived``. A decided one lost them already.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEPARATOR = "；"  # how the workflow joined the unmet conditions into the note before
_requests = sa.table(
    "extension_requests",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("note", sa.Text),
    sa.column("waived", sa.JSON),
)
_pending_zhongben = (_requests.c.kind == "zhongben", _requests.c.status == "pending")


def upgrade() -> None:
    """A term extension waives nothing: an empty list."""
    with op.batch_alter_table("extension_requests") as batch:
        batch.add_column(sa.Column("waived", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_requests.c.id, _requests.c.note).where(*_pending_zhongben, _requests.c.note != ""))
    for request_id, note in rows.all():
        waived = [c for c in note.split(SEPARATOR) if c]
        bind.execute(_requests.update().where(_requests.c.id == request_id).values(waived=waived, note=""))


def downgrade() -> None:
    """A pending request's conditions go back into its note, where the code before this revision reads them."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(_requests.c.id, _requests.c.waived).where(*_pending_zhongben, _requests.c.note == ""))
    for request_id, waived in rows.all():
        if waived:
            bind.execute(_requests.update().where(_requests.c.id == request_id).values(note=SEPARATOR.join(waived)))
    with op.batch_alter_table("extension_requests") as batch:
        batch.drop_column("waived")
