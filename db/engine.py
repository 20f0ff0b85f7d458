"""Engine and session set-up for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout because the API and the worker share the file (and
    ``make_sessions`` queues one process's writers)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class SqliteSessions(async_sessionmaker[AsyncSession]):
    """Write transactions (``begin()``) of one process take turns on SQLite.

    SQLite has one writer at a time, and a connection that finds the file locked sleeps in its busy handler, backing
    off up to 100 ms a try, however soon the lock is free again. Under a burst of filings the worker's transactions
    slept far longer than they wrote (``save_transition``: p50 13 ms, p99 2 s). Here they queue on a lock first and
    each starts the moment the one before it ends. Between processes (the API and the worker) SQLite's busy timeout
    still decides. A ``begin()`` inside another of the same task would wait for itself: it raises instead.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._holder: asyncio.Task[Any] | None = None

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]  # the same use: async with
        me = asyncio.current_task()
        if me is not None and self._holder is me:
            raise RuntimeError("a write transaction opened inside another of the same task would wait for itself")
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            self._holder = me
            try:
                async with super().begin() as session:
                    yield session
            finally:
                self._holder = None


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        return SqliteSessions(engine)
    return async_sessionmaker(engine, expire_on_commit=False)


def sync_url(url: str) -> str:
    """The same database through a synchronous driver, for alembic."""
    return url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql+psycopg")
