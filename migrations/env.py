"""Alembic environment: the database URL comes from YG_DATABASE_URL (or the caller's config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from core.settings import Settings
from db.engine import sync_url
from db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings().database_url

engine = create_engine(sync_url(url), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
