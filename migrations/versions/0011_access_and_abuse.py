"""Access and abuse (issue 9 items 4, 5): staff login throttling, logout, idempotency keys bound to their bodies

``staff_login_failures`` holds recent staff login attempts by a hash of the username or of the client address;
``revoked_tokens`` the ``jti`` of staff tokens ended by logout, until they would have expired. ``idempotency_keys``
binds a key on a case to the fingerprint of the request's body, claimed before the case's workflow is asked;
``cases.request_hash`` is the fingerprint of a filing's body. Keys used and cases filed before this revision have
no fingerprint: a repeat of them is answered as before.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_staff_login_failures_key_at", "key", "at"),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_revoked_tokens_expires_at", "expires_at"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "scope", "key", name="uq_idempotency_keys_case_scope_key"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("request_hash")
    op.drop_table("idempotency_keys")
    op.drop_table("revoked_tokens")
    op.drop_table("staff_login_failures")
