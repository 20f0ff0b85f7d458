"""SQLite's writers in one process take turns before they reach the file (db/engine.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import make_engine, make_sessions


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with engine.begin() as c:
        await c.execute(text("CREATE TABLE filings (n INTEGER)"))
    yield make_sessions(engine)
    await engine.dispose()


async def test_a_second_write_transaction_starts_when_the_first_commits_and_sees_its_row(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def second() -> int:
        async with sqlite_sessions.begin() as s:
            seen = int((await s.execute(text("SELECT count(*) FROM filings"))).scalar_one())
            await s.execute(text("INSERT INTO filings VALUES (2)"))
            return seen

    async with sqlite_sessions.begin() as s:
        await s.execute(text("INSERT INTO filings VALUES (1)"))
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # queued behind the first, not reading around it
    assert await waiting == 1
    async with sqlite_sessions() as s:
        assert (await s.execute(text("SELECT n FROM filings ORDER BY n"))).scalars().all() == [1, 2]


async def test_a_write_transaction_inside_another_of_the_same_task_is_refused_not_left_waiting(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sqlite_sessions.begin() as s:
        await s.execute(text("INSERT INTO filings VALUES (1)"))
        with pytest.raises(RuntimeError, match="wait for itself"):
            async with sqlite_sessions.begin():
                pass
    async with sqlite_sessions.begin() as s:  # the lock was not left taken
        assert int((await s.execute(text("SELECT count(*) FROM filings"))).scalar_one()) == 1
