"""Running the alembic migrations: the only way the schema changes (``python -m db.migrate``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest revision."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")


if __name__ == "__main__":
    from core.settings import Settings

    upgrade(Settings().database_url)
