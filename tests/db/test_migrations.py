"""The migrations are the only way the schema changes (ARCHITECTURE.md): each one goes down and up again,
and the schema they build is the one the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from db.engine import sync_url
from db.migrate import ROOT
from db.models import Base


def _config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _schema(url: str) -> dict[str, object]:
    """Each table with its columns and types, unique constraints, indexes and foreign keys."""
    engine = create_engine(sync_url(url))
    try:
        found = inspect(engine)
        return {
            t: (
                {(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(t)},
                {(u["name"], tuple(u["column_names"])) for u in found.get_unique_constraints(t)},
                {(i["name"], tuple(i["column_names"])) for i in found.get_indexes(t)},
                {(tuple(f["constrained_columns"]), f["referred_table"]) for f in found.get_foreign_keys(t)},
            )
            for t in found.get_table_names()
        }
    finally:
        engine.dispose()


def test_every_migration_goes_down_and_up_again(db_url: str) -> None:
    cfg = _config(db_url)
    head = _schema(db_url)
    revisions = [s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()]  # newest first
    seen = [head]
    for below in [*revisions[1:], "base"]:
        command.downgrade(cfg, below)
        now = _schema(db_url)
        assert now != seen[-1], f"downgrade to {below} changed nothing"
        seen.append(now)
    assert set(seen[-1]) <= {"alembic_version"}  # base: nothing of ours is left
    for revision, expected in zip(reversed(revisions), reversed(seen[:-1]), strict=True):
        command.upgrade(cfg, revision)
        assert _schema(db_url) == expected, f"upgrade to {revision} differs from the first upgrade"


def test_the_migrations_build_what_the_models_describe(db_url: str) -> None:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
