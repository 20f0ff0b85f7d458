"""The notifier on a migrated database and a local Twilio: who gets which SMS, once (decision 8)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from twilio.base.exceptions import TwilioRestException

from activities.outbox import Delivery
from activities.sms_providers import TwilioProvider
from db.models import Case, Court, Node, Party, SmsMessage, Staff
from domain.models import NotifyInput
from domain.secrets import verify_secret
from domain.sms import redact_query_code
from tests.activities.notifier import Notifier
from tests.twilio_stub import TwilioStub

COURT_NAME = "昆明市五华区人民法院"
CASE_NUMBER = "(2026)云0102执1234号"
HANDLER = "张明"
OFFICE_PHONE = "0871-65310000"
SENDER = "+15005550006"
APPLICANT_PHONE, AGENT_PHONE, RESPONDENT_PHONE = "13800138001", "13900139002", "13700137003"
QUERY_CODE = re.compile(r"查询码：(\w+)")


@dataclass(frozen=True)
class FiledCase:
    id: str
    applicant: int
    agent: int
    respondent: int
    company: int  # an applicant without a mobile number


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioStub]:
    """Twilio on 127.0.0.1; edge, region and proxy variables would send the client elsewhere."""
    for var in ("TWILIO_EDGE", "TWILIO_REGION", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    with TwilioStub() as s:
        yield s


@pytest.fixture
def notifier(sessions: async_sessionmaker[AsyncSession], stub: TwilioStub) -> Notifier:
    provider = TwilioProvider(stub.account_sid, stub.auth_token, SENDER, stub.base_url)
    return Notifier.of(sessions, provider)


@pytest.fixture
async def case(sessions: async_sessionmaker[AsyncSession]) -> FiledCase:
    """A filed case: an applicant, its agent, a company applicant without a mobile, a respondent."""
    case_id = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add(Court(code="YN0102", name=COURT_NAME, case_prefix="云0102", level="basic", path="/YN0102/"))
        handler = Staff(
            username="zhangming", password_hash="-", name=HANDLER, role="judge", court_code="YN0102",
            office_phone=OFFICE_PHONE, mobile="13600136000",
        )  # fmt: skip
        registrar = Staff(username="lihua", password_hash="-", name="李华", role="registrar", court_code="YN0102")
        s.add_all([handler, registrar])
        await s.flush()
        s.add(
            Case(
                id=case_id, case_number=CASE_NUMBER, court_code="YN0102", cause="民间借贷纠纷",
                amount=Decimal("86000.00"), filed_on=date(2026, 11, 20), has_property=True,
                handler_id=handler.id, registrar_id=registrar.id, workflow_id=f"case-{case_id}",
                status="open", created_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
            )
        )  # fmt: skip
        parties = [
            Party(case_id=case_id, role="applicant", name="王芳", phone=APPLICANT_PHONE),
            Party(case_id=case_id, role="agent", name="赵律师", phone=AGENT_PHONE),
            Party(case_id=case_id, role="respondent", name="李强", phone=RESPONDENT_PHONE),
            Party(case_id=case_id, role="applicant", name="云南某某商贸有限公司", phone=None),
        ]
        s.add_all(parties)
        await s.flush()
        return FiledCase(case_id, *(p.id for p in parties))


async def notify(notifier: Notifier, case: FiledCase, node_id: str | None = None) -> Delivery:
    reason = f"node:{node_id}" if node_id else "filed"
    return await notifier(NotifyInput(case_id=case.id, reason=reason, node_id=node_id))


async def record_freeze(sessions: async_sessionmaker[AsyncSession], case: FiledCase) -> str:
    """The read-model row the workflow's save_node writes for a 冻结 at 10:00 Beijing time."""
    node_id = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add(
            Node(
                id=node_id, case_id=case.id, seq=1, type="freeze",
                occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
                entered_at=datetime(2026, 11, 21, 3, 0, tzinfo=UTC),
                late=False, disclose=True, summary="", fields={},
                idempotency_key=f"key-{node_id}", recorded_by="zhangming",
            )
        )  # fmt: skip
    return node_id


async def outbox(sessions: async_sessionmaker[AsyncSession], case: FiledCase) -> list[SmsMessage]:
    async with sessions() as s:
        return list(await s.scalars(select(SmsMessage).where(SmsMessage.case_id == case.id).order_by(SmsMessage.id)))


async def party(sessions: async_sessionmaker[AsyncSession], party_id: int) -> Party:
    async with sessions() as s:
        found = await s.get(Party, party_id)
        assert found is not None
        return found


async def set_phone(sessions: async_sessionmaker[AsyncSession], party_id: int, phone: str) -> None:
    async with sessions.begin() as s:
        await s.execute(update(Party).where(Party.id == party_id).values(phone=phone))


async def crashed_before_marking_sent(s: AsyncSession, stub: TwilioStub) -> None:
    """Every row as a worker that died after Twilio accepted it, before writing 'sent', leaves it: 'sending', and
    its text still with the query code (the code is masked only with 'sent')."""
    for row in await s.scalars(select(SmsMessage)):
        [accepted] = stub.sent_to("+86" + row.to)
        row.status, row.provider_id, row.sent_at, row.body = "sending", None, None, accepted["body"]


def query_code(body: str) -> str:
    m = QUERY_CODE.search(body)
    assert m is not None, body
    return m[1]


async def test_filing_sms_reaches_applicants_and_agents_with_a_working_query_code(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    result = await notify(notifier, case)

    assert result == Delivery(sent=2, skipped=0)
    assert sorted(m["to"] for m in stub.received) == ["+86" + APPLICANT_PHONE, "+86" + AGENT_PHONE]
    codes = {}
    for party_id, phone in ((case.applicant, APPLICANT_PHONE), (case.agent, AGENT_PHONE)):
        [msg] = stub.sent_to("+86" + phone)
        body = msg["body"]
        assert body.startswith(f"【{COURT_NAME}】")
        assert CASE_NUMBER in body
        assert "2026年11月20日立案" in body
        assert f"承办人{HANDLER}，办公电话{OFFICE_PHONE}" in body
        codes[party_id] = query_code(body)
        stored = (await party(sessions, party_id)).query_code_hash
        assert stored is not None and codes[party_id] not in stored
        assert verify_secret(stored, codes[party_id])
    # each party's code opens its own record only
    agent_hash = (await party(sessions, case.agent)).query_code_hash
    assert agent_hash is not None and not verify_secret(agent_hash, codes[case.applicant])
    assert (await party(sessions, case.respondent)).query_code_hash is None
    assert (await party(sessions, case.company)).query_code_hash is None


async def test_retried_notification_sends_each_sms_once(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await notify(notifier, case)
    first_rows = [(r.id, r.body) for r in await outbox(sessions, case)]

    again = await notify(notifier, case)

    assert again == Delivery(sent=0, skipped=2)
    assert [(r.id, r.body) for r in await outbox(sessions, case)] == first_rows
    assert len(stub.attempts) == len(stub.received) == 2
    # the retry did not replace the query code the applicant already has on the phone
    [msg] = stub.sent_to("+86" + APPLICANT_PHONE)
    stored = (await party(sessions, case.applicant)).query_code_hash
    assert stored is not None and verify_secret(stored, query_code(msg["body"]))


async def test_node_sms_goes_to_the_phone_corrected_after_filing(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await notify(notifier, case)
    await set_phone(sessions, case.applicant, "13811112222")
    node_id = await record_freeze(sessions, case)

    assert await notify(notifier, case, node_id) == Delivery(sent=2, skipped=0)

    [old] = stub.sent_to("+86" + APPLICANT_PHONE)
    assert "查询码" in old["body"]  # only the filing SMS went to the old number
    [new] = stub.sent_to("+8613811112222")
    assert new["body"] == (
        f"【{COURT_NAME}】您申请执行的{CASE_NUMBER}案件，2026年11月21日10时00分，已冻结被执行人财产。"
        f"承办人{HANDLER}，办公电话{OFFICE_PHONE}。"
    )
    assert "查询码" not in new["body"]


async def test_retry_after_a_phone_correction_goes_to_the_new_number(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The outbox row was queued with the old number; contact details are read at send time (decision 8)."""
    node_id = await record_freeze(sessions, case)
    stub.fail_next(1, 503)
    with pytest.raises(TwilioRestException):
        await notify(notifier, case, node_id)
    await set_phone(sessions, case.applicant, "13811112222")

    await notify(notifier, case, node_id)

    assert stub.sent_to("+86" + APPLICANT_PHONE) == []
    assert len(stub.sent_to("+8613811112222")) == 1
    rows = {r.recipient: r for r in await outbox(sessions, case)}
    assert rows[f"party:{case.applicant}"].to == "13811112222"


async def test_twilio_received_exactly_what_the_outbox_records(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await notify(notifier, case)
    await notify(notifier, case, await record_freeze(sessions, case))

    rows = await outbox(sessions, case)
    by_sid = {m["sid"]: m for m in stub.received}
    assert len(rows) == len(by_sid) == 4
    for row in rows:
        assert (row.status, row.provider, row.attempts, row.error) == ("sent", "twilio", 1, None)
        assert row.sent_at is not None
        assert row.provider_id is not None and re.fullmatch(r"SM[0-9a-f]{32}", row.provider_id)
        msg = by_sid[row.provider_id]
        assert (msg["to"], msg["from"], redact_query_code(msg["body"])) == ("+86" + row.to, SENDER, row.body)
        assert "您申请执行的" in msg["body"]  # the Chinese text survived the form encoding


async def test_transient_twilio_error_is_retried_and_each_sms_sent_once(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    stub.fail_next(1, 500)

    with pytest.raises(TwilioRestException) as failed:
        await notify(notifier, case)  # raised, so Temporal retries the activity (SMS_RETRY)
    assert failed.value.status == 500
    assert stub.received == []

    assert await notify(notifier, case) == Delivery(sent=2, skipped=0)

    assert sorted(m["to"] for m in stub.received) == ["+86" + APPLICANT_PHONE, "+86" + AGENT_PHONE]
    assert len(stub.attempts) == 3
    rows = await outbox(sessions, case)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert sorted(r.attempts for r in rows) == [1, 2]


async def test_invalid_number_is_marked_failed_without_retrying(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    stub.fail_next(1, 400, code=21211)

    assert await notify(notifier, case) == Delivery(sent=1, skipped=1)
    assert await notify(notifier, case) == Delivery(sent=0, skipped=2)

    assert len(stub.attempts) == 2  # one refused, one accepted, nothing tried again
    assert len(stub.received) == 1
    [failed] = [r for r in await outbox(sessions, case) if r.status == "failed"]
    assert failed.error is not None and "21211" in failed.error
    assert failed.provider_id is None and failed.sent_at is None
    assert stub.sent_to("+86" + failed.to) == []


async def test_sms_accepted_before_a_crash_is_not_sent_again(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The worker died after Twilio accepted the messages, before it wrote 'sent': the retry asks Twilio."""
    await notify(notifier, case)
    async with sessions.begin() as s:
        await crashed_before_marking_sent(s, stub)

    assert await notify(notifier, case) == Delivery(sent=2, skipped=0)

    assert len(stub.attempts) == len(stub.received) == 2
    assert len(stub.lists) == 2  # looked up, not re-sent
    sids = {m["to"]: m["sid"] for m in stub.received}
    for row in await outbox(sessions, case):
        assert (row.status, row.provider_id) == ("sent", sids["+86" + row.to])


async def test_crash_recovery_on_a_database_in_beijing_time_does_not_resend(
    db_url: str,
    notifier: Notifier,
    case: FiledCase,
    stub: TwilioStub,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A PostgreSQL set up in China returns timestamptz in Asia/Shanghai; the lookup must still match."""
    await notify(notifier, case)
    async with sessions.begin() as s:
        if db_url.startswith("postgresql"):  # SQLite hands back UTC whatever the machine's zone
            name = await s.scalar(text("SELECT current_database()"))
            await s.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Shanghai'"))
        await crashed_before_marking_sent(s, stub)
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    await engine.dispose()  # new connections take the database's zone

    await notify(notifier, case)

    assert len(stub.received) == 2


async def test_a_sent_filing_sms_keeps_its_text_with_the_query_code_masked(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The code is stored hashed on the party; the outbox holds it only until the message is handed over."""
    stub.fail_next(1, 503)
    with pytest.raises(TwilioRestException):
        await notify(notifier, case)
    waiting = await outbox(sessions, case)
    assert all(r.status in ("pending", "sending") for r in waiting)
    assert all(query_code(r.body) != "******" for r in waiting)  # not sent yet: the code is still needed

    await notify(notifier, case)

    for row in await outbox(sessions, case):
        assert row.status == "sent"
        assert "查询码：******" in row.body
        [msg] = stub.sent_to("+86" + row.to)
        code = query_code(msg["body"])
        assert code not in row.body and row.body == msg["body"].replace(code, "******")


async def test_a_filing_sms_refused_for_good_keeps_no_query_code(
    notifier: Notifier, case: FiledCase, stub: TwilioStub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    stub.fail_next(1, 400, code=21211)

    await notify(notifier, case)

    [failed] = [r for r in await outbox(sessions, case) if r.status == "failed"]
    assert "查询码：******" in failed.body


async def test_a_twilio_run_leaves_no_full_phone_number_in_the_logs(
    notifier: Notifier,
    case: FiledCase,
    stub: TwilioStub,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker logs at INFO; the Twilio client logs each request's recipient there (worker.log, decision 6)."""
    caplog.set_level(logging.INFO)
    await notify(notifier, case)
    async with sessions.begin() as s:
        await crashed_before_marking_sent(s, stub)
    await notify(notifier, case)  # the crash recovery lists messages by recipient

    assert stub.lists  # the lookup went out too
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for phone in (APPLICANT_PHONE, AGENT_PHONE):
        assert phone not in logged
