"""Migration 0010 on SQLite and PostgreSQL: a case filed before it was filed under rule set 2026.1, and an
obligation saved before it has no ladder times until the workflow's next snapshot of it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from db.engine import sync_url
from tests.db.test_migrations import _config


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
            conn.execute(
                text(
                    "INSERT INTO obligations (case_id, obligation_id, rule, subject, opened_at, due_at, confirmed, "
                    "status, paused, late, rungs_fired, level, updated_at, version) VALUES ('c1', 'term-6m', "
                    "'term-6m', '执行期限（6个月）', '2026-10-20 01:00:00+00:00', '2027-04-20 15:59:59+00:00', "
                    "false, 'open', false, false, '[]', 0, '2026-10-20 01:00:00+00:00', 3)"
                )
            )
    finally:
        engine.dispose()


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_earlier_cases_keep_rule_set_2026_1_and_earlier_obligations_no_ladder_times(db_url: str) -> None:
    cfg = _config(db_url)
    command.downgrade(cfg, "0009")
    _seed(db_url)

    command.upgrade(cfg, "0010")
    assert _query(db_url, "SELECT id, rule_version FROM cases") == [("c1", "2026.1")]
    assert _query(db_url, "SELECT obligation_id, remind_at, warn_at, version FROM obligations") == [
        ("term-6m", None, None, 3)
    ]

    command.downgrade(cfg, "0009")
    assert _query(db_url, "SELECT id, status FROM cases") == [("c1", "open")]
    assert _query(db_url, "SELECT obligation_id, version FROM obligations") == [("term-6m", 3)]
    command.upgrade(cfg, "head")
