"""Obligations and extension requests saved through save_transition, on a migrated database: the workflow's
version decides, so the retry of an overtaken snapshot never takes the read model back in time (decision 1).

These tests guard issue 8 defect 8: a worker killed in the middle of a save left its attempt to be retried after
the workflow's next save had landed. An activity that wrote whatever snapshot arrived last let the retried "open"
of investigate-1m overwrite "met": the workflow said met, supervision (and every inbox the ladder had reached)
read open for good. Each obligation now carries its ``version``, an extension request ``extension_version``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.outbox import Outbox
from activities.sms_providers import OutboxProvider
from activities.transitions import TransitionActivities
from db import queries
from db.models import Case, Court, ObligationRow, SmsMessage, Staff, SupervisionRecord
from domain.models import Extension, Obligation, RungFiring, TransitionInput

FILED = datetime(2026, 10, 19, 16, 0, tzinfo=UTC)  # 2026-10-20 00:00 in Beijing
DUE = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # investigate-1m: one month, to 24:00 Beijing
MET = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # late: after DUE
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ROLES = ("handler", "bureau_chief", "president", "discipline")


@pytest.fixture
async def case_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    """An open case in 五华区 with its handler, bureau chief, president and discipline head, each with a mobile."""
    cid = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add(Court(code="YN0102", name="昆明市五华区人民法院", case_prefix="云0102", level="basic", path="/YN0102/"))
        staff = [
            Staff(username=role, password_hash="-", name=role, role=role, court_code="YN0102", mobile=f"1390000000{i}")
            for i, role in enumerate(ROLES)
        ]
        s.add_all(staff)
        await s.flush()
        s.add(
            Case(
                id=cid, case_number="（2026）云0102执88号", court_code="YN0102", cause="民间借贷纠纷",
                amount=Decimal("50000.00"), filed_on=date(2026, 10, 20), has_property=True,
                handler_id=staff[0].id, registrar_id=staff[0].id, workflow_id=f"case-{cid}",
                status="open", created_at=FILED,
            )
        )  # fmt: skip
    return cid


def investigate(**changes: object) -> Obligation:
    """investigate-1m as the workflow keeps it, with every rung up to escalation fired (it ran late)."""
    ob = Obligation(
        id="investigate-1m",
        rule="investigate-1m",
        subject="财产调查（网络查控）",
        opened_at=FILED,
        start=FILED,
        length=1,
        unit="months",
        due_at=DUE,
        remind_at=DUE - timedelta(days=1),
        warn_at=DUE - timedelta(days=1),
        rungs_fired=["remind_open", "remind_due", "warn", "escalate"],
    )
    return ob.model_copy(update=changes)


def batch(case_id: str, ob: Obligation, *, version: int, fire: list[str] | None = None) -> TransitionInput:
    """What the workflow saves at ``version``: the obligation's snapshot, and (``fire``) the rungs that came due
    with it as one batch, as CaseWorkflow._fire_due_rungs writes them."""
    ob = ob.model_copy(update={"version": version})
    firings = [RungFiring(obligation=ob, rung=r, overdue=r == "escalate") for r in fire or []]
    return TransitionInput(
        case_id=case_id, obligations=[ob], firings=firings, batch=f"rungs:{version}" if firings else ""
    )


async def run(sessions: async_sessionmaker[AsyncSession], inp: TransitionInput) -> None:
    activities = TransitionActivities(sessions, Outbox(sessions, OutboxProvider()))
    await ActivityEnvironment().run(activities.save_transition, inp)


async def save(sessions: async_sessionmaker[AsyncSession], case_id: str, ob: Obligation, version: int) -> None:
    await run(sessions, batch(case_id, ob, version=version))


async def row(sessions: async_sessionmaker[AsyncSession], case_id: str) -> ObligationRow:
    async with sessions() as s:
        found = await queries.obligation_of_case(s, case_id=case_id, obligation_id="investigate-1m")
    assert found is not None
    return found


async def unmet(sessions: async_sessionmaker[AsyncSession], case_id: str) -> list[tuple[str, datetime]]:
    async with sessions() as s:
        rows = await s.scalars(
            select(SupervisionRecord)
            .where(SupervisionRecord.case_id == case_id, SupervisionRecord.met_at.is_(None))
            .order_by(SupervisionRecord.id)
        )
        return [(r.rung, r.due_at) for r in rows]


async def supervised(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """What GET /api/supervision lists for the court: open, running obligations due by NOW or past a rung."""
    async with sessions() as s:
        rows = await queries.supervised_obligations(s, court_path="/YN0102/", horizon=NOW)
    return [r[0].obligation_id for r in rows]


async def inbox(sessions: async_sessionmaker[AsyncSession], role: str) -> list[tuple[str, datetime]]:
    async with sessions() as s:
        staff = await s.scalar(select(Staff).where(Staff.role == role))
        assert staff is not None
        return [(r.rung, r.due_at) for r in await queries.inbox(s, staff_id=staff.id)]


async def sms_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(SmsMessage)) or 0)


async def test_retried_open_snapshot_after_met_leaves_the_obligation_met(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    # The workflow fired investigate-1m's rungs with its open snapshot at version 1 (the attempt a killed worker
    # left to its retry), then met it with the network inquiry and saved version 2.
    stale = batch(case_id, investigate(), version=1, fire=["remind_open", "remind_due", "warn", "escalate"])
    await run(sessions, stale)
    assert await inbox(sessions, "president") == [("escalate", DUE)]
    sent = await sms_count(sessions)
    assert sent == 4  # handler, bureau chief, president, discipline head: one each
    await save(sessions, case_id, investigate(status="met", met_at=MET, late=True), version=2)
    assert (await row(sessions, case_id)).status == "met"
    assert await unmet(sessions, case_id) == [] and await supervised(sessions) == []

    await run(sessions, stale)  # the retry lands last

    got = await row(sessions, case_id)
    assert (got.status, got.met_at, got.late, got.version) == ("met", MET, True, 2)
    assert await supervised(sessions) == []  # supervision agrees with the workflow: met
    assert await unmet(sessions, case_id) == []
    for role in ROLES:
        assert await inbox(sessions, role) == [], role
    async with sessions() as s:
        closed = (await s.scalars(select(SupervisionRecord.met_at).where(SupervisionRecord.case_id == case_id))).all()
    assert len(closed) == 5 and set(closed) == {MET}  # closed when met, not re-stamped or re-opened by the retry
    assert await sms_count(sessions) == sent  # and nobody is told again


async def test_the_last_save_of_a_version_stands(sessions: async_sessionmaker[AsyncSession], case_id: str) -> None:
    first = investigate(rungs_fired=["remind_open"])
    await save(sessions, case_id, first, version=3)

    # A local write made by a workflow task that then failed is followed by its recorded retry, with the same
    # version and what the recorded task decided: that one stands.
    await save(sessions, case_id, first.model_copy(update={"rungs_fired": ["remind_open", "warn"]}), version=3)

    after = await row(sessions, case_id)
    assert (after.rungs_fired, after.level, after.version) == (["remind_open", "warn"], 2, 3)
    await save(sessions, case_id, first, version=2)  # an older one still never does
    assert (await row(sessions, case_id)).rungs_fired == ["remind_open", "warn"]


async def test_a_newer_version_wins_and_re_arms_or_closes_the_rungs(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    fired = investigate(rungs_fired=["remind_open", "remind_due", "warn"])
    await run(sessions, batch(case_id, fired, version=1, fire=["remind_open", "remind_due", "warn"]))
    assert await inbox(sessions, "bureau_chief") == [("warn", DUE)]

    # A stay deducted at resumption moves the deadline: the rungs ahead of it are re-armed (seed 004).
    new_due = DUE + timedelta(days=10)
    moved = fired.model_copy(update={"due_at": new_due, "rungs_fired": ["remind_open"]})
    await save(sessions, case_id, moved, version=2)
    got = await row(sessions, case_id)
    assert (got.due_at, got.rungs_fired, got.level, got.version) == (new_due, ["remind_open"], 0, 2)
    assert await unmet(sessions, case_id) == [("remind_open", DUE)]
    assert await inbox(sessions, "bureau_chief") == []

    # Before the new due day the handler is reminded and the bureau chief warned again, of the new deadline.
    sent = await sms_count(sessions)
    again = moved.model_copy(update={"rungs_fired": ["remind_open", "remind_due", "warn"]})
    await run(sessions, batch(case_id, again, version=3, fire=["remind_due", "warn"]))
    assert await inbox(sessions, "bureau_chief") == [("warn", new_due)]
    assert ("remind_due", new_due) in await inbox(sessions, "handler")
    assert await sms_count(sessions) == sent + 2
    assert (await row(sessions, case_id)).level == 2

    await save(sessions, case_id, again.model_copy(update={"status": "met", "met_at": MET}), version=4)
    got = await row(sessions, case_id)
    assert (got.status, got.met_at, got.late, got.version) == ("met", MET, False, 4)
    assert await unmet(sessions, case_id) == [] and await inbox(sessions, "handler") == []


async def test_an_older_save_retried_after_a_newer_one_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    """Out of order without a rung batch: the moved deadline (version 2) stays when version 1 lands after it."""
    await save(sessions, case_id, investigate(rungs_fired=[], due_at=DUE + timedelta(days=10)), version=2)
    await save(sessions, case_id, investigate(rungs_fired=["remind_open"]), version=1)
    got = await row(sessions, case_id)
    assert (got.due_at, got.rungs_fired, got.version) == (DUE + timedelta(days=10), [], 2)


async def test_unversioned_saves_keep_last_write_wins_and_lose_to_versioned_ones(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    """Version 0: a workflow history from before versions. Its saves still land in order, as they always did."""
    await save(sessions, case_id, investigate(rungs_fired=[]), version=0)
    await save(sessions, case_id, investigate(rungs_fired=["remind_open"]), version=0)
    assert (await row(sessions, case_id)).rungs_fired == ["remind_open"]

    await save(sessions, case_id, investigate(status="met", met_at=MET, late=True), version=1)
    await save(sessions, case_id, investigate(rungs_fired=["remind_open"]), version=0)

    assert ((got := await row(sessions, case_id)).status, got.version) == ("met", 1)


async def test_a_retried_pending_extension_never_undoes_its_decision(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    pending = Extension(
        id=f"ext-{case_id}", months=3, reason="被执行人财产正在评估拍卖", requested_by="handler", requested_at=FILED
    )
    approved = pending.model_copy(update={"status": "approved", "decided_by": "president", "decided_at": MET})

    for ext, version in ((pending, 1), (approved, 2), (pending, 1), (approved, 2)):
        await run(sessions, TransitionInput(case_id=case_id, extension=ext, extension_version=version))

    async with sessions() as s:
        rows = await queries.extensions_of_case(s, case_id=case_id)
    assert [(r.id, r.case_id, r.status, r.decided_by, r.decided_at, r.version) for r in rows] == [
        (pending.id, case_id, "approved", "president", MET, 2)
    ]


async def test_an_extension_keeps_the_last_write_of_the_newest_version(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    pending = Extension(
        id=f"ext-{case_id}", months=3, reason="被执行人财产正在评估拍卖", requested_by="handler", requested_at=FILED
    )
    phantom = pending.model_copy(update={"reason": "a failed workflow task's local write"})
    await run(sessions, TransitionInput(case_id=case_id, extension=phantom, extension_version=1))
    await run(sessions, TransitionInput(case_id=case_id, extension=pending, extension_version=1))  # the recorded one
    decided = pending.model_copy(update={"status": "refused", "decided_by": "president", "decided_at": MET})
    await run(sessions, TransitionInput(case_id=case_id, extension=decided, extension_version=2))
    await run(sessions, TransitionInput(case_id=case_id, extension=pending, extension_version=1))  # overtaken

    async with sessions() as s:
        rows = await queries.extensions_of_case(s, case_id=case_id)
    assert [(r.reason, r.status, r.version) for r in rows] == [("被执行人财产正在评估拍卖", "refused", 2)]


async def test_approving_a_zhongben_exception_keeps_the_waived_conditions_apart_from_the_note(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    """Issue 8 defect 6: the approver's note overwrote the unmet conditions. Each now has its own column."""
    waived = ["未发出执行通知书", "立案未满3个月"]
    pending = Extension(
        id=f"zb-{case_id}", kind="zhongben", reason="被执行人下落不明", requested_by="handler", requested_at=FILED,
        waived=waived,
    )  # fmt: skip
    approved = pending.model_copy(
        update={"status": "approved", "decided_by": "bureau_chief", "decided_at": MET, "note": "同意，确无财产可供执行"}
    )
    await run(sessions, TransitionInput(case_id=case_id, extension=pending, extension_version=1))
    await run(sessions, TransitionInput(case_id=case_id, extension=approved, extension_version=2))

    async with sessions() as s:
        rows = await queries.extensions_of_case(s, case_id=case_id)
    assert [(r.kind, r.status, r.waived, r.note) for r in rows] == [
        ("zhongben", "approved", waived, "同意，确无财产可供执行")
    ]


async def test_a_snapshot_without_conditions_keeps_the_stored_ones(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> None:
    """A request asked before the conditions were kept apart had them moved by migration 0009; its workflow still
    holds none, and its decision must not erase them."""
    legacy = Extension(
        id=f"zb-{case_id}", kind="zhongben", reason="被执行人下落不明", requested_by="handler", requested_at=FILED
    )
    await run(sessions, TransitionInput(case_id=case_id, extension=legacy, extension_version=1))
    async with sessions.begin() as s:
        row = await queries.extension_of_case(s, case_id=case_id, extension_id=legacy.id)
        assert row is not None and row.waived == []
        row.waived = ["立案未满3个月"]  # what migration 0009 moved out of the note
    decided = legacy.model_copy(update={"status": "refused", "decided_by": "bureau_chief", "note": "请先约谈"})
    await run(sessions, TransitionInput(case_id=case_id, extension=decided, extension_version=2))

    async with sessions() as s:
        row = await queries.extension_of_case(s, case_id=case_id, extension_id=legacy.id)
    assert row is not None and (row.status, row.waived, row.note) == ("refused", ["立案未满3个月"], "请先约谈")
