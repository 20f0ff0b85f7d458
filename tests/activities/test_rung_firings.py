"""The escalation ladder's rungs written by save_transition and sent by the outbox, on a migrated database (seed
004): a supervision record (督办) per obligation, rung and recipient, and one SMS per staff member per batch, so a
case filed with a past date, whose overdue deadlines climb the ladder at once, does not send anyone twenty."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.outbox import Outbox
from activities.transitions import TransitionActivities
from db import queries
from db.models import Case, Court, SmsMessage, Staff, SupervisionRecord
from domain.clock import end_of_day, start_of_day
from domain.models import Obligation, RungFiring, TransitionInput

COURT = "昆明市五华区人民法院"
CASE_NUMBER = "（2026）云0102执88号"
FILED = start_of_day(date(2026, 10, 20))
# Staff of the case's court: username → (role, mobile, active). A second bureau chief has no mobile; a former
# president is inactive; the vice president is on no rung.
STAFF: dict[str, tuple[str, str | None, bool]] = {
    "handler": ("handler", "13900000001", True),
    "clerk": ("clerk", "13900000002", True),
    "bureau_chief": ("bureau_chief", "13900000003", True),
    "bureau_chief_b": ("bureau_chief", None, True),
    "vice_president": ("vice_president", "13900000004", True),
    "president": ("president", "13900000005", True),
    "president_old": ("president", "13900000006", False),
    "discipline": ("discipline", "13900000007", True),
}
# 盘龙区's leaders must never hear of a 五华区 case.
OTHER_COURT = {"bureau_chief2": "bureau_chief", "president2": "president", "discipline2": "discipline"}


class RecordingProvider:
    name = "outbox"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        return f"id-{len(self.sent)}"

    async def find(self, to: str, body: str, since: datetime) -> str | None:
        return None


@dataclass
class Env:
    sessions: async_sessionmaker[AsyncSession]
    case_id: str
    provider: RecordingProvider

    @property
    def activities(self) -> TransitionActivities:
        return TransitionActivities(self.sessions, Outbox(self.sessions, self.provider))

    async def save(self, inp: TransitionInput) -> None:
        await ActivityEnvironment().run(self.activities.save_transition, inp)

    async def deliver(self, reason: str) -> int:
        outbox = Outbox(self.sessions, self.provider)
        return (await ActivityEnvironment().run(outbox.deliver, self.case_id, [reason])).sent

    async def records(self) -> list[tuple[str, str, str]]:
        """(obligation, rung, recipient's username) of every supervision record, sorted."""
        async with self.sessions() as s:
            rows = await s.execute(
                select(SupervisionRecord.obligation_id, SupervisionRecord.rung, Staff.username)
                .join(Staff, SupervisionRecord.staff_id == Staff.id)
                .where(SupervisionRecord.case_id == self.case_id)
            )
            return sorted((o, r, u) for o, r, u in rows.all())

    async def sms(self, batch: str) -> dict[str, str]:
        """What a batch queued: recipient's username → body."""
        async with self.sessions() as s:
            usernames = {f"staff:{i}": u for i, u in (await s.execute(select(Staff.id, Staff.username))).all()}
            query = select(SmsMessage).where(SmsMessage.case_id == self.case_id, SmsMessage.reason == batch)
            rows = (await s.scalars(query)).all()
        found = [(usernames[r.recipient], r.body, r.to) for r in rows]
        assert len(found) == len({u for u, _, _ in found})  # one per staff member
        assert all(STAFF[u][1] == to for u, _, to in found)  # each to the recipient's office mobile
        return {u: body for u, body, _ in found}

    async def inbox(self, username: str) -> list[tuple[str, str]]:
        async with self.sessions() as s:
            staff = await s.scalar(select(Staff).where(Staff.username == username))
            assert staff is not None
            return sorted((r.obligation_id, r.rung) for r in await queries.inbox(s, staff_id=staff.id))


@pytest.fixture
async def env(sessions: async_sessionmaker[AsyncSession]) -> Env:
    """An open 五华区 case with its handler and clerk; the court's leaders; 盘龙区's leaders."""
    cid = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add_all(
            [
                Court(code="YN0102", name=COURT, case_prefix="云0102", level="basic", path="/YN0102/"),
                Court(code="YN0103", name="昆明市盘龙区人民法院", case_prefix="云0103", level="basic", path="/YN0103/"),
            ]
        )
        staff = {
            username: Staff(
                username=username, password_hash="-", name=username, role=role, court_code="YN0102",
                mobile=mobile, active=active,
            )
            for username, (role, mobile, active) in STAFF.items()
        }  # fmt: skip
        other = [
            Staff(username=u, password_hash="-", name=u, role=r, court_code="YN0103", mobile="13800000009")
            for u, r in OTHER_COURT.items()
        ]
        s.add_all([*staff.values(), *other])
        await s.flush()
        s.add(
            Case(
                id=cid, case_number=CASE_NUMBER, court_code="YN0102", cause="民间借贷纠纷",
                amount=Decimal("50000.00"), filed_on=FILED.date(), has_property=True,
                handler_id=staff["handler"].id, clerk_id=staff["clerk"].id, registrar_id=staff["handler"].id,
                workflow_id=f"case-{cid}", status="open", created_at=FILED,
            )
        )  # fmt: skip
    return Env(sessions, cid, RecordingProvider())


def obligation(ob_id: str, subject: str, due: date, *, assignee: str = "handler", version: int = 1) -> Obligation:
    due_at = end_of_day(due)
    return Obligation(
        id=ob_id,
        rule=ob_id.split(":")[0],
        subject=subject,
        opened_at=FILED,
        start=FILED,
        length=1,
        unit="months",
        due_at=due_at,
        remind_at=start_of_day(due - timedelta(days=1)),
        warn_at=start_of_day(due - timedelta(days=1)),
        assignee=assignee,
        version=version,
    )


INVESTIGATE = obligation("investigate-1m", "财产调查（网络查控）", date(2026, 11, 20))
ENTRY = obligation("entry-3d:n1", "现场调查（定于2026年10月21日）情况录入", date(2026, 10, 24))
FEEDBACK = obligation("feedback:1", "第1次执行进展反馈（立案满1个月）", date(2026, 12, 5))
TERM = obligation("term-6m", "执行期限（6个月）", date(2027, 4, 20))
ALL_RUNGS = ["remind_open", "remind_due", "warn", "escalate"]


def fired(ob: Obligation, rungs: list[str], *, overdue: bool) -> list[RungFiring]:
    ob = ob.model_copy(update={"rungs_fired": rungs})
    return [RungFiring(obligation=ob, rung=r, overdue=overdue) for r in rungs]


def filed_late(case_id: str) -> TransitionInput:
    """A case filed on 2026-10-20 and entered on 2026-12-01: two deadlines already past climb the whole ladder
    at once; two others just open."""
    firings = [
        *fired(ENTRY, ALL_RUNGS, overdue=True),
        *fired(INVESTIGATE, ALL_RUNGS, overdue=True),
        *fired(FEEDBACK, ["remind_open"], overdue=False),
        *fired(TERM, ["remind_open"], overdue=False),
    ]
    return TransitionInput(
        case_id=case_id, obligations=[f.obligation for f in firings], firings=firings, batch="rungs:2"
    )


def state(overdue: bool) -> str:
    return "已超期" if overdue else "已开始计算"


async def test_a_case_filed_with_a_past_date_gets_a_record_per_rung_and_recipient_and_one_sms_each(
    env: Env,
) -> None:
    await env.save(filed_late(env.case_id))

    reminders = [(ob, r, "handler") for ob in ("entry-3d:n1", "investigate-1m") for r in ("remind_due", "remind_open")]
    reminders += [("feedback:1", "remind_open", "handler"), ("term-6m", "remind_open", "handler")]
    leaders = [
        (ob, r, u)
        for ob in ("entry-3d:n1", "investigate-1m")
        for r, u in (
            ("escalate", "discipline"),
            ("escalate", "president"),
            ("warn", "bureau_chief"),
            ("warn", "bureau_chief_b"),
        )
    ]
    assert await env.records() == sorted(reminders + leaders)

    sms = await env.sms("rungs:2")
    assert sorted(sms) == ["bureau_chief", "discipline", "handler", "president"]  # one each; no mobile, no SMS
    # The handler has four duties: the three shown put the overdue first, the summary counts all four.
    assert sms["handler"] == (
        f"【{COURT}】督办：{CASE_NUMBER}案件“现场调查（定于2026年10月21日）情况录入”期限至2026年10月24日，已超期；"
        "“财产调查（网络查控）”期限至2026年11月20日，已超期；"
        "“第1次执行进展反馈（立案满1个月）”期限至2026年12月5日，已开始计算（等4项），请及时处理。"
    )
    for leader in ("bureau_chief", "president", "discipline"):
        assert sms[leader] == (
            f"【{COURT}】督办：{CASE_NUMBER}案件“现场调查（定于2026年10月21日）情况录入”期限至2026年10月24日，已超期；"
            "“财产调查（网络查控）”期限至2026年11月20日，已超期（共2项），请及时处理。"
        )
    assert await env.inbox("vice_president") == [] and await env.inbox("president_old") == []
    for username in OTHER_COURT:
        assert await env.inbox(username) == []


async def test_a_retried_batch_creates_and_sends_nothing_new(env: Env) -> None:
    batch = filed_late(env.case_id)
    await env.save(batch)
    records, sms = await env.records(), await env.sms("rungs:2")
    assert await env.deliver("rungs:2") == 4

    await env.save(batch)  # the activity retried after its transaction committed
    assert await env.deliver("rungs:2") == 0

    assert await env.records() == records
    assert await env.sms("rungs:2") == sms
    assert sorted(to for to, _ in env.provider.sent) == sorted(STAFF[u][1] or "" for u in sms)
    async with env.sessions() as s:
        statuses = (await s.scalars(select(SmsMessage.status).where(SmsMessage.reason == "rungs:2"))).all()
    assert statuses == ["sent"] * 4


async def test_the_next_batch_tells_again_only_of_what_fired_in_it(env: Env) -> None:
    await env.save(filed_late(env.case_id))
    # A day before the feedback's due day: its reminder and the warning, in a batch of their own.
    rungs = fired(FEEDBACK.model_copy(update={"version": 3}), ["remind_open", "remind_due", "warn"], overdue=False)
    later = rungs[1:]
    await env.save(
        TransitionInput(case_id=env.case_id, obligations=[later[-1].obligation], firings=later, batch="rungs:3")
    )

    sms = await env.sms("rungs:3")
    assert sorted(sms) == ["bureau_chief", "handler"]
    assert sorted(sms.values()) == sorted(
        f"【{COURT}】督办（{name}）：{CASE_NUMBER}案件“第1次执行进展反馈（立案满1个月）”期限至2026年12月5日，即将到期，请及时处理。"
        for name in ("到期前提醒承办人", "临期预警执行局长")
    )


@pytest.mark.parametrize("overdue", [True, False])
async def test_an_opening_reminder_of_an_overdue_deadline_says_overdue_never_started(env: Env, overdue: bool) -> None:
    """A deadline already past when its period opens (a past filing date) is not "just started" (seed 004)."""
    [firing] = fired(INVESTIGATE, ["remind_open"], overdue=overdue)
    await env.save(
        TransitionInput(case_id=env.case_id, obligations=[firing.obligation], firings=[firing], batch="rungs:1")
    )

    body = (await env.sms("rungs:1"))["handler"]
    assert body == (
        f"【{COURT}】督办（提醒承办人）：{CASE_NUMBER}案件“财产调查（网络查控）”期限至2026年11月20日，"
        f"{state(overdue)}，请及时处理。"
    )
    assert ("已开始计算" in body) is not overdue


async def test_an_overdue_opening_reminder_among_several_duties_says_overdue(env: Env) -> None:
    firings = [
        *fired(INVESTIGATE, ["remind_open"], overdue=True),
        *fired(ENTRY, ["remind_open"], overdue=True),
    ]
    await env.save(
        TransitionInput(
            case_id=env.case_id, obligations=[f.obligation for f in firings], firings=firings, batch="rungs:1"
        )
    )
    body = (await env.sms("rungs:1"))["handler"]
    assert body.count("已超期") == 2 and "已开始计算" not in body and "（共2项）" in body


async def test_reminders_reach_the_obligations_assignee_and_higher_rungs_the_leaders(env: Env) -> None:
    """Reminders go to whom the rule names (the handler, the clerk for electronic service, the bureau chief to
    assign a handler, the discipline head for a complaint); the warning to the bureau chiefs, escalation to the
    president and the discipline head of the case's court, active ones only."""
    service = obligation("eservice-3d:d1", "电子送达文书签收", date(2026, 10, 23), assignee="clerk")
    assign = obligation("assign-7d", "确定承办人", date(2026, 10, 27), assignee="bureau_chief")
    complaint = obligation("complaint:c1", "答复当事人投诉", date(2026, 10, 23), assignee="discipline")
    firings = [
        *fired(service, ["remind_open", "warn", "escalate"], overdue=True),
        *fired(assign, ["remind_open", "warn"], overdue=False),
        *fired(complaint, ["remind_open", "escalate"], overdue=True),
        *fired(INVESTIGATE, ["remind_open"], overdue=False),
    ]
    await env.save(
        TransitionInput(
            case_id=env.case_id, obligations=[f.obligation for f in firings], firings=firings, batch="rungs:1"
        )
    )

    assert await env.records() == sorted(
        [
            ("eservice-3d:d1", "remind_open", "clerk"),
            ("eservice-3d:d1", "warn", "bureau_chief"),
            ("eservice-3d:d1", "warn", "bureau_chief_b"),
            ("eservice-3d:d1", "escalate", "president"),
            ("eservice-3d:d1", "escalate", "discipline"),
            ("assign-7d", "remind_open", "bureau_chief"),
            ("assign-7d", "remind_open", "bureau_chief_b"),
            ("assign-7d", "warn", "bureau_chief"),
            ("assign-7d", "warn", "bureau_chief_b"),
            ("complaint:c1", "remind_open", "discipline"),
            ("complaint:c1", "escalate", "president"),
            ("complaint:c1", "escalate", "discipline"),
            ("investigate-1m", "remind_open", "handler"),
        ]
    )
    sms = await env.sms("rungs:1")
    assert sorted(sms) == ["bureau_chief", "clerk", "discipline", "handler", "president"]
    # The bureau chief, reminded and warned of the same assignment, reads of it once, at its highest rung.
    assert sms["bureau_chief"].count("确定承办人") == 1 and "（共2项）" in sms["bureau_chief"]
    assert sms["discipline"].count("答复当事人投诉") == 1 and "（共2项）" in sms["discipline"]
    assert "答复当事人投诉" not in sms["handler"] and "电子送达" not in sms["handler"]
    assert sms["clerk"] == (
        f"【{COURT}】督办（提醒书记员）：{CASE_NUMBER}案件“电子送达文书签收”期限至2026年10月23日，已超期，请及时处理。"
    )


async def test_a_moved_deadline_fires_its_rungs_again_for_the_new_due_instant(env: Env) -> None:
    """An extension or a stay moves the deadline later: the re-armed rungs make new records, of the new deadline."""
    await env.save(filed_late(env.case_id))
    # The extension's decision re-arms the rungs ahead of the new due instant: their old records leave the inboxes.
    moved = INVESTIGATE.model_copy(update={"due_at": end_of_day(date(2027, 1, 20)), "rungs_fired": ["remind_open"]})
    await env.save(TransitionInput(case_id=env.case_id, obligations=[moved.model_copy(update={"version": 4})]))
    assert ("investigate-1m", "warn") not in await env.inbox("bureau_chief")
    # Before the new due day they fire again.
    again = fired(moved.model_copy(update={"version": 5}), ["remind_open", "remind_due", "warn"], overdue=False)[1:]
    await env.save(
        TransitionInput(case_id=env.case_id, obligations=[again[-1].obligation], firings=again, batch="rungs:6")
    )

    async with env.sessions() as s:
        rows = await s.execute(
            select(SupervisionRecord.rung, SupervisionRecord.due_at, SupervisionRecord.met_at).where(
                SupervisionRecord.obligation_id == "investigate-1m", SupervisionRecord.rung == "warn"
            )
        )
        warn = sorted((rung, due.astimezone(UTC), met is None) for rung, due, met in rows.all())
    old, new = INVESTIGATE.due_at.astimezone(UTC), moved.due_at.astimezone(UTC)
    assert warn == sorted([("warn", old, False), ("warn", old, False), ("warn", new, True), ("warn", new, True)])
    assert ("investigate-1m", "warn") in await env.inbox("bureau_chief")
    assert ("investigate-1m", "escalate") not in await env.inbox("president")  # the old term's escalation ended
    assert "期限至2027年1月20日，即将到期" in (await env.sms("rungs:6"))["bureau_chief"]
