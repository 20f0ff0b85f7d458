"""db.read_model on SQLite and PostgreSQL: writes that never commit (several share the caller's transaction),
never go back to an older version, and settle a race for the same business key (decision 1)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import read_model
from db.models import Case, Court, ExtensionRequest, Node, ObligationRow, Staff
from domain.models import Extension, Obligation, RecordedNode

AT = datetime(2026, 10, 19, 16, 0, tzinfo=UTC)


@pytest.fixture
async def case_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    cid = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add(Court(code="YN0102", name="昆明市五华区人民法院", case_prefix="云0102", level="basic", path="/YN0102/"))
        handler = Staff(username="wang", password_hash="-", name="王承办", role="handler", court_code="YN0102")
        s.add(handler)
        await s.flush()
        s.add(
            Case(
                id=cid, case_number="（2026）云0102执99号", court_code="YN0102", cause="民间借贷纠纷",
                amount=Decimal("1000.00"), filed_on=date(2026, 10, 20), has_property=True,
                handler_id=handler.id, registrar_id=handler.id, workflow_id=f"case-{cid}",
                status="filing", created_at=AT,
            )
        )  # fmt: skip
    return cid


def obligation(ob_id: str = "term-6m", **changes: object) -> Obligation:
    ob = Obligation(
        id=ob_id, rule="term-6m", subject="执行期限（6个月）", opened_at=AT, start=AT, length=6, unit="months",
        due_at=AT + timedelta(days=182), remind_at=AT, warn_at=AT + timedelta(days=180),
    )  # fmt: skip
    return ob.model_copy(update=changes)


async def save_obligation(s: AsyncSession, *, case_id: str, obligation: Obligation, version: int) -> bool:
    """One obligation at ``version``: written or not."""
    ob = obligation.model_copy(update={"version": version})
    return await read_model.save_obligations(s, case_id=case_id, obligations=[ob]) == [ob.id]


async def stored(sessions: async_sessionmaker[AsyncSession], case_id: str) -> list[tuple[str, str, list[str], int]]:
    async with sessions() as s:
        rows = await s.scalars(
            select(ObligationRow).where(ObligationRow.case_id == case_id).order_by(ObligationRow.obligation_id)
        )
        return [(r.obligation_id, r.status, r.rungs_fired, r.version) for r in rows]


async def test_several_writes_share_the_callers_transaction(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    """A batched activity calls them together: they commit with the caller, and roll back with it."""
    node = RecordedNode(
        node_id=str(uuid.uuid4()), seq=1, type="network_inquiry", occurred_at=AT, entered_at=AT, late=False,
        disclose=True, idempotency_key="k1", recorded_by="wang",
    )  # fmt: skip
    ext = Extension(id=f"ext-{case_id}", months=3, reason="评估拍卖", requested_by="wang", requested_at=AT)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as s:
            assert await read_model.mark_case_open(s, case_id=case_id)
            await read_model.save_node(s, case_id=case_id, node=node)
            assert await save_obligation(s, case_id=case_id, obligation=obligation(), version=1)
            assert await read_model.save_extension(s, case_id=case_id, extension=ext, version=1)
            raise RuntimeError("the batch fails after the writes")
    assert await stored(sessions, case_id) == []
    async with sessions() as s:
        assert (await s.get(Case, case_id) or Case()).status == "filing"
        assert await s.scalar(select(func.count()).select_from(Node)) == 0
        assert await s.scalar(select(func.count()).select_from(ExtensionRequest)) == 0

    async with sessions.begin() as s:
        assert await read_model.mark_case_open(s, case_id=case_id)
        await read_model.save_node(s, case_id=case_id, node=node)
        # Written again as its recorded retry wrote it: one row, holding the last write.
        await read_model.save_node(s, case_id=case_id, node=node.model_copy(update={"late": True}))
        assert await save_obligation(s, case_id=case_id, obligation=obligation(), version=1)
        assert await save_obligation(s, case_id=case_id, obligation=obligation(rungs_fired=["remind_open"]), version=2)
        assert not await save_obligation(s, case_id=case_id, obligation=obligation(), version=1)
        assert await save_obligation(s, case_id=case_id, obligation=obligation("assign-7d"), version=3)
        assert await read_model.save_extension(s, case_id=case_id, extension=ext, version=4)
        assert not await read_model.mark_case_open(s, case_id=case_id)  # already open
    assert await stored(sessions, case_id) == [
        ("assign-7d", "open", [], 3),
        ("term-6m", "open", ["remind_open"], 2),
    ]
    async with sessions() as s:
        assert (await s.scalars(select(Node.late).where(Node.case_id == case_id))).all() == [True]


async def test_a_write_for_an_unknown_case_still_fails(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Only a conflict on the business key means "already written": a missing case is an error to retry."""
    with pytest.raises(IntegrityError):
        async with sessions.begin() as s:
            await save_obligation(s, case_id="no-such-case", obligation=obligation(), version=1)


async def test_a_negative_version_is_refused(sessions: async_sessionmaker[AsyncSession], case_id: str) -> None:
    async with sessions() as s:
        with pytest.raises(ValueError):
            await save_obligation(s, case_id=case_id, obligation=obligation(), version=-1)


async def _wait_for_lock_waiter(s: AsyncSession) -> None:
    """On PostgreSQL, until another backend waits on a lock (the competing insert); SQLite: a moment."""
    if s.get_bind().dialect.name != "postgresql":
        await asyncio.sleep(0.5)
        return
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    for _ in range(600):
        waiting = await s.scalar(text(query))
        await s.rollback()  # pg_stat_activity is read once per transaction: the next poll needs a new one
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the competing write never waited")


@pytest.mark.parametrize(("theirs", "mine", "wins"), [(1, 2, 2), (2, 1, 2), (2, 2, 2)])
async def test_a_race_for_the_first_row_keeps_the_newest_version(
    sessions: async_sessionmaker[AsyncSession], case_id: str, theirs: int, mine: int, wins: int
) -> None:
    """Two transactions write the obligation's first row at once: theirs inserts and commits while mine waits.

    On PostgreSQL mine found no row to update, so it inserts, waits on theirs, and must then compare with the row
    theirs committed instead of failing or giving up; on SQLite mine waits for the write lock.
    """
    mine_wrote: asyncio.Task[bool] | None = None
    async with sessions() as watcher, sessions.begin() as s:
        await save_obligation(s, case_id=case_id, obligation=obligation(subject=f"v{theirs}"), version=theirs)

        async def write_mine() -> bool:
            async with sessions.begin() as s2:
                return await save_obligation(
                    s2, case_id=case_id, obligation=obligation(subject=f"v{mine}"), version=mine
                )

        mine_wrote = asyncio.create_task(write_mine())
        await _wait_for_lock_waiter(watcher)
        assert not mine_wrote.done()
    assert await mine_wrote == (mine >= theirs)  # the same version again: the later write stands
    async with sessions() as s:
        rows = (await s.execute(select(ObligationRow.subject, ObligationRow.version))).all()
    assert [tuple(r) for r in rows] == [(f"v{wins}", wins)]


async def test_an_obligation_keeps_its_ladder_times_and_a_newer_snapshot_moves_them(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    """The handler's reminder and the bureau chief's warning are stored beside the due instant (API.md →
    Obligations show their ladder); a moved deadline's newer snapshot moves them, an older one does not."""
    moved = AT + timedelta(days=90)
    async with sessions.begin() as s:
        assert await save_obligation(s, case_id=case_id, obligation=obligation(), version=1)
    async with sessions.begin() as s:
        newer = obligation(due_at=moved + timedelta(days=182), remind_at=moved, warn_at=moved + timedelta(days=1))
        assert await save_obligation(s, case_id=case_id, obligation=newer, version=2)
        assert not await save_obligation(s, case_id=case_id, obligation=obligation(), version=1)
    async with sessions() as s:
        row = await s.scalar(select(ObligationRow).where(ObligationRow.case_id == case_id))
    assert row is not None
    assert (row.remind_at, row.warn_at, row.due_at) == (moved, moved + timedelta(days=1), moved + timedelta(days=182))
