"""Migration 0009 on SQLite and PostgreSQL: a 终本 exception still pending kept its unmet conditions in ``note``;
they move to ``waived`` so the bureau chief's note can no longer overwrite them (issue 8 defect 6)."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, text

from db.engine import sync_url
from tests.db.test_migrations import _config

CONDITIONS = ["未发出执行通知书", "立案未满3个月", "未进行终本约谈"]
ROWS = [
    # id, kind, status, note
    ("zb-pending", "zhongben", "pending", "；".join(CONDITIONS)),
    ("zb-approved", "zhongben", "approved", "同意，被执行人确无财产"),  # its conditions were overwritten already
    ("ext-pending", "extension", "pending", ""),
]


def _seed(url: str) -> None:
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO courts (code, name, case_prefix, level, path) "
                    "VALUES ('YN0102', '昆明市五华区人民法院', '云0102', 'basic', '/YN0102/')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO staff (id, username, password_hash, name, role, court_code, active) "
                    "VALUES (1, 'handler', '-', '承办人', 'handler', 'YN0102', true)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO cases (id, case_number, court_code, cause, amount, filed_on, has_property, "
                    "handler_id, registrar_id, workflow_id, status, created_at) VALUES ('c1', '（2026）云0102执1号', "
                    "'YN0102', '民间借贷纠纷', 1000, '2026-10-20', true, 1, 1, 'case-c1', 'open', "
                    "'2026-10-20 01:00:00+00:00')"
                )
            )
            for request_id, kind, status, note in ROWS:
                conn.execute(
                    text(
                        "INSERT INTO extension_requests (id, case_id, kind, months, reason, requested_by, "
                        "requested_at, status, note) VALUES (:id, 'c1', :kind, 0, '被执行人下落不明', 'handler', "
                        "'2026-12-01 01:00:00+00:00', :status, :note)"
                    ),
                    {"id": request_id, "kind": kind, "status": status, "note": note},
                )
    finally:
        engine.dispose()


def _rows(url: str, *, waived: bool = True) -> dict[str, tuple[str, list[str] | None]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            columns = "id, note, waived" if waived else "id, note, NULL"
            found = conn.execute(text(f"SELECT {columns} FROM extension_requests")).all()
    finally:
        engine.dispose()
    return {i: (note, json.loads(w) if isinstance(w, str) else w) for i, note, w in found}


def test_a_pending_exception_keeps_its_conditions_apart_from_the_note(db_url: str) -> None:
    cfg = _config(db_url)
    command.downgrade(cfg, "0008")
    _seed(db_url)

    command.upgrade(cfg, "0009")
    assert _rows(db_url) == {
        "zb-pending": ("", CONDITIONS),
        "zb-approved": ("同意，被执行人确无财产", []),
        "ext-pending": ("", []),
    }

    command.downgrade(cfg, "0008")  # the code before 0009 reads a pending request's conditions from its note
    assert _rows(db_url, waived=False) == {request_id: (note, None) for request_id, _, _, note in ROWS}
