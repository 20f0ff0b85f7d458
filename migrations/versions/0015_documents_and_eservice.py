"""Documents in the file store, e-service and receipts (issue 10 items 3, 7)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("node_id", sa.String(36), nullable=True),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("disclosed", sa.Boolean(), nullable=False),
        sa.Column("eservice", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("case_id", "sha256", name="uq_documents_case_sha256"),
    )
    op.create_index("ix_documents_case_id", "documents", ["case_id"])
    op.create_index("ix_documents_unserved", "documents", ["served_at", "uploaded_at"])
    op.create_table(
        "service_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("document_id", sa.String(36), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("document_id", "party_id", name="uq_service_receipts_document_party"),
    )
    op.create_index("ix_service_receipts_case_id", "service_receipts", ["case_id"])
    op.create_index("ix_service_receipts_document_id", "service_receipts", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_service_receipts_document_id", table_name="service_receipts")
    op.drop_index("ix_service_receipts_case_id", table_name="service_receipts")
    op.drop_table("service_receipts")
    op.drop_index("ix_documents_unserved", table_name="documents")
    op.drop_index("ix_documents_case_id", table_name="documents")
    op.drop_table("documents")
