"""Parties' identity document types and the court information page (issue 10 items 5, 6)

``parties.id_type`` names the document a party's number belongs to (domain/identity.py). Numbers stored before are
typed by the check they pass now (a valid resident ID, credit code …) and ``unknown`` otherwise; the numbers
themselves are left as they were entered. ``court_information`` holds each court's public information sections,
``court_information_changes`` who changed them when.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

from domain.errors import InvalidInput
from domain.identity import check_id_number

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UNKNOWN = "unknown"


def _type_of(number: str) -> str:
    try:
        return check_id_number(number, today=date.today()).id_type
    except InvalidInput:
        return UNKNOWN


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("id_type", sa.String(length=32), nullable=True))
    parties = sa.table("parties", sa.column("id", sa.Integer), sa.column("id_number"), sa.column("id_type"))
    bind = op.get_bind()
    rows = bind.execute(sa.select(parties.c.id, parties.c.id_number).where(parties.c.id_number.is_not(None)))
    for party_id, number in rows.all():
        if number.strip():
            bind.execute(parties.update().where(parties.c.id == party_id).values(id_type=_type_of(number)))

    op.create_table(
        "court_information",
        sa.Column("court_code", sa.String(length=16), sa.ForeignKey("courts.code"), primary_key=True),
        sa.Column("section", sa.String(length=16), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
    )
    op.create_table(
        "court_information_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("court_code", sa.String(length=16), sa.ForeignKey("courts.code"), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
    )
    op.create_index("ix_court_information_changes_court_code", "court_information_changes", ["court_code"])


def downgrade() -> None:
    op.drop_index("ix_court_information_changes_court_code", table_name="court_information_changes")
    op.drop_table("court_information_changes")
    op.drop_table("court_information")
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("id_type")
