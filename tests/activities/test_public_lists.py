"""Public-list activities on a migrated database: listed once, lifted by measure, masked until confirmed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.public_lists import LocalPublisher, PublicListActivities
from contracts.activities import MASK_CASE_ENTRIES
from db.engine import make_engine, make_sessions
from db.models import Case, Court, Node, Party, PublicListEntry, Staff
from domain.public_lists import (
    MaskInput,
    MaskResult,
    PublicEntry,
    PublicListChange,
    PublicListNodeInput,
)

COURT_NAME = "昆明市五华区人民法院"
PERSON_ID = "530102199001011234"
OLD_PERSON_ID = "530102900101123"
COMPANY_CODE = "91530102MA6N12345X"
PERSON_ADDRESS = "云南省昆明市五华区某某路12号3栋"
FILED_ON = date(2026, 11, 20)
LISTED_AT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 in Beijing

_numbers = iter(range(1, 100_000))


@dataclass(frozen=True)
class FiledCase:
    id: str
    case_number: str
    person: int
    company: int
    applicant: int


class RecordingPublisher:
    """The local lists, with a record of every call; refuses to confirm the first ``refusals`` times."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], refusals: int = 0) -> None:
        self._local = LocalPublisher(sessions)
        self.refusals = refusals
        self.calls: list[tuple[str, PublicEntry]] = []
        self.confirms = 0

    async def publish(self, entry: PublicEntry) -> None:
        self.calls.append(("publish", entry))

    async def lift(self, entry: PublicEntry) -> None:
        self.calls.append(("lift", entry))

    async def mask(self, entry: PublicEntry) -> None:
        self.calls.append(("mask", entry))

    async def confirm(self, case_id: str) -> list[str]:
        self.confirms += 1
        if self.confirms <= self.refusals:
            return ["dishonest"]  # the outside list has not caught up yet
        return await self._local.confirm(case_id)

    def of(self, kind: str) -> list[PublicEntry]:
        return [e for k, e in self.calls if k == kind]


async def add_court(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions.begin() as s:
        if await s.get(Court, "YN0102") is None:
            s.add(Court(code="YN0102", name=COURT_NAME, case_prefix="云0102", level="basic", path="/YN0102/"))
        registrar = await s.scalar(select(Staff).where(Staff.username == "lihua"))
        if registrar is None:
            registrar = Staff(username="lihua", password_hash="-", name="李华", role="registrar", court_code="YN0102")
            s.add(registrar)
            await s.flush()
        return registrar.id


async def file_case(sessions: async_sessionmaker[AsyncSession]) -> FiledCase:
    """A filed case: an applicant, a natural-person respondent and a company respondent."""
    registrar = await add_court(sessions)
    case_id, n = str(uuid.uuid4()), next(_numbers)
    case_number = f"(2026)云0102执{n}号"
    async with sessions.begin() as s:
        s.add(
            Case(
                id=case_id, case_number=case_number, court_code="YN0102", cause="民间借贷纠纷",
                amount=Decimal("86000.00"), filed_on=FILED_ON, has_property=True, registrar_id=registrar,
                workflow_id=f"case-{case_id}", status="open", created_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
            )
        )  # fmt: skip
        parties = [
            Party(case_id=case_id, role="respondent", name="李强", id_number=PERSON_ID, address=PERSON_ADDRESS),
            Party(case_id=case_id, role="respondent", name="云南某某商贸有限公司", id_number=COMPANY_CODE,
                  address="昆明市盘龙区北京路1188号金色大道A座2单元301室"),
            Party(case_id=case_id, role="applicant", name="王芳", id_number="530103198505051234",
                  phone="13800138001", address="云南省昆明市西山区滇池路1号"),
        ]  # fmt: skip
        s.add_all(parties)
        await s.flush()
        return FiledCase(case_id, case_number, *(p.id for p in parties))


async def record_node(
    sessions: async_sessionmaker[AsyncSession],
    case: FiledCase,
    type_code: str,
    *,
    occurred_at: datetime = LISTED_AT,
    fields: dict[str, str] | None = None,
    disclose: bool = True,
    summary: str = "",
) -> str:
    """The read-model row the workflow's save_node writes."""
    node_id = str(uuid.uuid4())
    async with sessions.begin() as s:
        s.add(
            Node(
                id=node_id, case_id=case.id, seq=next(_numbers), type=type_code, occurred_at=occurred_at,
                entered_at=occurred_at + timedelta(hours=1), late=False, disclose=disclose, summary=summary,
                fields=fields or {}, idempotency_key=f"key-{node_id}", recorded_by="zhangming",
            )
        )  # fmt: skip
    return node_id


async def entries(sessions: async_sessionmaker[AsyncSession], case: FiledCase) -> list[PublicListEntry]:
    async with sessions() as s:
        rows = await s.scalars(
            select(PublicListEntry)
            .where(PublicListEntry.case_id == case.id)
            .order_by(PublicListEntry.list_name, PublicListEntry.party_id)
        )
        return list(rows)


def by_list(rows: Sequence[PublicListEntry]) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for e in rows:
        out.setdefault(e.list_name, []).append((e.party_id, e.status))
    return out


@pytest.fixture
def publisher(sessions: async_sessionmaker[AsyncSession]) -> RecordingPublisher:
    return RecordingPublisher(sessions)


@pytest.fixture
def lists(sessions: async_sessionmaker[AsyncSession], publisher: RecordingPublisher) -> PublicListActivities:
    return PublicListActivities(sessions, publisher)


@pytest.fixture
async def case(sessions: async_sessionmaker[AsyncSession]) -> FiledCase:
    return await file_case(sessions)


async def apply(lists: PublicListActivities, case: FiledCase, node_id: str) -> PublicListChange:
    """Run the activity as the worker would, so ``activity.logger`` has its context."""
    inp = PublicListNodeInput(case_id=case.id, node_id=node_id)
    return await ActivityEnvironment().run(lists.apply_node_to_public_lists, inp)


async def list_filing(
    lists: PublicListActivities, sessions: async_sessionmaker[AsyncSession], case_id: str
) -> PublicListChange:
    """As the notices lane lists a filed case: the entries written in its transaction, then published."""
    async with sessions.begin() as s:
        listing = await lists.list_case(s, case_id)
    await lists.publish(listing)
    return PublicListChange(created=["unfinished-cases"] if listing.created else [], lifted=[])


async def mask(lists: PublicListActivities, case: FiledCase, only: list[str] | None = None) -> MaskResult:
    inp = MaskInput(case_id=case.id, lists=only, reason="结案后屏蔽")
    return await ActivityEnvironment().run(lists.mask_case_entries, inp)


# --- filing ---


async def test_filing_lists_each_respondent_on_unfinished_cases_and_not_the_applicant(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    change = await list_filing(lists, sessions, case.id)

    assert change == PublicListChange(created=["unfinished-cases"], lifted=[])
    rows = await entries(sessions, case)
    assert by_list(rows) == {"unfinished-cases": [(case.person, "visible"), (case.company, "visible")]}
    person, company = rows
    assert (person.name, person.id_number_masked, person.address_masked) == (
        "李强",
        "5301************34",
        "云南省昆明市五华区",
    )
    assert (company.name, company.id_number_masked, company.address_masked) == (
        "云南某某商贸有限公司",
        "9153************5X",
        "昆明市盘龙区",
    )
    assert person.node_id is None
    assert person.since == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # the filing day, from 0:00 in Beijing


async def test_no_list_row_keeps_a_whole_id_number_or_address(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await list_filing(lists, sessions, case.id)
    await apply(lists, case, await record_node(sessions, case, "dishonest_listing"))

    for row in await entries(sessions, case):
        stored = " ".join(str(v) for v in vars(row).values())
        for secret in (PERSON_ID, COMPANY_CODE, "19900101", "某某路12号", "北京路1188号"):
            assert secret not in stored


async def test_listing_the_filing_again_changes_nothing(
    lists: PublicListActivities,
    case: FiledCase,
    sessions: async_sessionmaker[AsyncSession],
    publisher: RecordingPublisher,
) -> None:
    first = await list_filing(lists, sessions, case.id)
    rows = [(e.id, e.since) for e in await entries(sessions, case)]

    assert await list_filing(lists, sessions, case.id) == first
    assert [(e.id, e.since) for e in await entries(sessions, case)] == rows
    # each attempt hands the entries to the publisher again: its calls must be idempotent
    assert len(publisher.of("publish")) == 4


async def test_filing_of_a_case_missing_from_the_read_model_is_retried(
    lists: PublicListActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(LookupError):
        await list_filing(lists, sessions, str(uuid.uuid4()))


async def test_a_fifteen_digit_id_is_masked_too(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as s:
        party = await s.get(Party, case.person)
        assert party is not None
        party.id_number = OLD_PERSON_ID

    await list_filing(lists, sessions, case.id)

    [person] = [e for e in await entries(sessions, case) if e.party_id == case.person]
    assert person.id_number_masked == "5301*********23"


# --- measures ---


@pytest.mark.parametrize(
    ("node", "listed"),
    [
        ("dishonest_listing", "dishonest"),
        ("exit_restriction", "exit-restrictions"),
        ("consumption_restriction", "consumption-restrictions"),
        ("bidding_restriction", "bidding-restrictions"),
    ],
)
async def test_each_listing_measure_puts_the_respondents_on_its_list(
    lists: PublicListActivities,
    case: FiledCase,
    sessions: async_sessionmaker[AsyncSession],
    publisher: RecordingPublisher,
    node: str,
    listed: str,
) -> None:
    node_id = await record_node(sessions, case, node)

    assert await apply(lists, case, node_id) == PublicListChange(created=[listed], lifted=[])

    rows = await entries(sessions, case)
    assert by_list(rows) == {listed: [(case.person, "visible"), (case.company, "visible")]}
    assert {(e.node_id, e.since) for e in rows} == {(node_id, LISTED_AT)}
    published = publisher.of("publish")
    assert [(e.list, e.case_number, e.court, e.name) for e in published] == [
        (listed, case.case_number, COURT_NAME, "李强"),
        (listed, case.case_number, COURT_NAME, "云南某某商贸有限公司"),
    ]


async def test_applying_the_same_node_again_is_idempotent(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    node_id = await record_node(sessions, case, "dishonest_listing")
    first = await apply(lists, case, node_id)
    rows = [(e.id, e.status, e.since) for e in await entries(sessions, case)]

    assert await apply(lists, case, node_id) == first
    assert [(e.id, e.status, e.since) for e in await entries(sessions, case)] == rows


async def test_a_second_listing_while_listed_keeps_the_first_entry(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await record_node(sessions, case, "dishonest_listing")
    await apply(lists, case, first)
    second = await record_node(sessions, case, "dishonest_listing", occurred_at=LISTED_AT + timedelta(days=3))

    assert await apply(lists, case, second) == PublicListChange(created=[], lifted=[])
    assert {(e.node_id, e.since) for e in await entries(sessions, case)} == {(first, LISTED_AT)}


async def test_other_nodes_list_no_one(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for node in ("freeze", "detention", "closure"):
        assert await apply(lists, case, await record_node(sessions, case, node)) == PublicListChange(
            created=[], lifted=[]
        )
    assert await entries(sessions, case) == []


async def test_a_listing_approved_for_non_disclosure_is_not_published(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A node the judge was allowed to keep undisclosed (seed 002 第十三条) stays off the public lists."""
    node_id = await record_node(sessions, case, "exit_restriction", disclose=False)

    assert await apply(lists, case, node_id) == PublicListChange(created=[], lifted=[])
    assert await entries(sessions, case) == []


async def test_a_node_not_yet_in_the_read_model_is_retried(lists: PublicListActivities, case: FiledCase) -> None:
    with pytest.raises(LookupError):
        await apply(lists, case, str(uuid.uuid4()))


async def test_a_node_of_another_case_is_refused_without_retry(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    other = await file_case(sessions)
    node_id = await record_node(sessions, other, "dishonest_listing")

    with pytest.raises(ApplicationError) as caught:
        await apply(lists, case, node_id)

    assert (caught.value.type, caught.value.non_retryable) == ("NodeNotInCase", True)
    assert await entries(sessions, case) == await entries(sessions, other) == []


async def test_a_listing_logged_at_info_level_returns(
    lists: PublicListActivities,
    case: FiledCase,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker logs at INFO: a change logged with a key LogRecord reserves ("created") raised, retried for ever."""
    caplog.set_level(logging.INFO, logger="temporalio.activity")
    node_id = await record_node(sessions, case, "dishonest_listing")

    assert await apply(lists, case, node_id) == PublicListChange(created=["dishonest"], lifted=[])

    [record] = [r for r in caplog.records if r.getMessage().startswith("public lists changed")]
    assert record.levelno == logging.INFO
    assert (record.__dict__["lists_created"], record.__dict__["lists_lifted"]) == (["dishonest"], [])
    assert record.__dict__["case_id"] == case.id


# --- lifting ---


async def test_measure_lifted_lifts_only_the_list_of_its_measure(
    lists: PublicListActivities,
    case: FiledCase,
    sessions: async_sessionmaker[AsyncSession],
    publisher: RecordingPublisher,
) -> None:
    await list_filing(lists, sessions, case.id)
    await apply(lists, case, await record_node(sessions, case, "dishonest_listing"))
    await apply(lists, case, await record_node(sessions, case, "exit_restriction"))
    lifted_at = LISTED_AT + timedelta(days=10)
    lift = await record_node(
        sessions, case, "measure_lifted", occurred_at=lifted_at, fields={"measure": "dishonest_listing"},
        summary="被执行人已履行全部义务",
    )  # fmt: skip

    assert await apply(lists, case, lift) == PublicListChange(created=[], lifted=["dishonest"])

    rows = await entries(sessions, case)
    assert by_list(rows) == {
        "dishonest": [(case.person, "lifted"), (case.company, "lifted")],
        "exit-restrictions": [(case.person, "visible"), (case.company, "visible")],
        "unfinished-cases": [(case.person, "visible"), (case.company, "visible")],
    }
    for e in rows:
        if e.list_name == "dishonest":
            assert (e.lifted_at, e.lifted_node_id) == (lifted_at, lift)
            assert e.reason is not None and "纳入失信被执行人名单" in e.reason and "全部义务" in e.reason
    assert [e.list for e in publisher.of("lift")] == ["dishonest", "dishonest"]
    assert await LocalPublisher(sessions).confirm(case.id) == ["exit-restrictions", "unfinished-cases"]


async def test_lifting_again_changes_nothing(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await apply(lists, case, await record_node(sessions, case, "consumption_restriction"))
    lift = await record_node(
        sessions, case, "measure_lifted", occurred_at=LISTED_AT + timedelta(days=1),
        fields={"measure": "consumption_restriction"},
    )  # fmt: skip
    first = await apply(lists, case, lift)
    rows = [(e.id, e.status, e.lifted_at) for e in await entries(sessions, case)]

    assert await apply(lists, case, lift) == first == PublicListChange(created=[], lifted=["consumption-restrictions"])
    assert [(e.id, e.status, e.lifted_at) for e in await entries(sessions, case)] == rows


async def test_a_lift_entered_late_does_not_lift_a_later_listing(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await apply(lists, case, await record_node(sessions, case, "exit_restriction"))
    lift = await record_node(
        sessions, case, "measure_lifted", occurred_at=LISTED_AT - timedelta(hours=1),
        fields={"measure": "exit_restriction"},
    )  # fmt: skip

    assert await apply(lists, case, lift) == PublicListChange(created=[], lifted=[])
    assert {e.status for e in await entries(sessions, case)} == {"visible"}


async def test_listing_again_after_a_lift_shows_the_respondent_again(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await apply(lists, case, await record_node(sessions, case, "dishonest_listing"))
    await apply(
        lists,
        case,
        await record_node(
            sessions, case, "measure_lifted", occurred_at=LISTED_AT + timedelta(days=1),
            fields={"measure": "dishonest_listing"},
        ),
    )  # fmt: skip
    again_at = LISTED_AT + timedelta(days=5)
    again = await record_node(sessions, case, "dishonest_listing", occurred_at=again_at)

    assert await apply(lists, case, again) == PublicListChange(created=["dishonest"], lifted=[])

    rows = await entries(sessions, case)
    assert len(rows) == 2  # still one entry per respondent
    assert {(e.status, e.node_id, e.since, e.lifted_at, e.lifted_node_id) for e in rows} == {
        ("visible", again, again_at, None, None)
    }


# --- masking (seed 002 第十二条; delist-3wd) ---


async def _listed_everywhere(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await list_filing(lists, sessions, case.id)
    for node in ("dishonest_listing", "exit_restriction", "consumption_restriction"):
        await apply(lists, case, await record_node(sessions, case, node))


async def test_masking_after_closure_hides_every_visible_entry_and_is_confirmed(
    lists: PublicListActivities,
    case: FiledCase,
    sessions: async_sessionmaker[AsyncSession],
    publisher: RecordingPublisher,
) -> None:
    await _listed_everywhere(lists, case, sessions)
    await apply(
        lists,
        case,
        await record_node(
            sessions, case, "measure_lifted", occurred_at=LISTED_AT + timedelta(days=1),
            fields={"measure": "exit_restriction"},
        ),
    )  # fmt: skip
    before = datetime.now(UTC)

    result = await mask(lists, case)

    assert result.masked == 6  # 2 respondents × (unfinished, dishonest, consumption); the lifted exit entries stay
    assert before <= result.confirmed_at <= datetime.now(UTC)
    rows = await entries(sessions, case)
    assert by_list(rows)["exit-restrictions"] == [(case.person, "lifted"), (case.company, "lifted")]
    for e in rows:
        if e.status == "masked":
            assert e.masked_at is not None and before <= e.masked_at <= result.confirmed_at
            assert e.reason == "结案后屏蔽"
    assert len(publisher.of("mask")) == 6
    assert publisher.confirms == 1
    assert await LocalPublisher(sessions).confirm(case.id) == []


async def test_masking_only_the_dishonest_list_after_full_performance(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _listed_everywhere(lists, case, sessions)

    result = await mask(lists, case, ["dishonest"])

    assert result.masked == 2
    shown = by_list(await entries(sessions, case))
    assert shown["dishonest"] == [(case.person, "masked"), (case.company, "masked")]
    for other in ("unfinished-cases", "exit-restrictions", "consumption-restrictions"):
        assert {status for _, status in shown[other]} == {"visible"}


async def test_masking_again_changes_nothing_and_reports_the_same_count(
    lists: PublicListActivities, case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _listed_everywhere(lists, case, sessions)
    first = await mask(lists, case)
    stamps = [(e.id, e.masked_at) for e in await entries(sessions, case)]

    again = await mask(lists, case)

    assert again.masked == first.masked == 8
    assert [(e.id, e.masked_at) for e in await entries(sessions, case)] == stamps


async def test_masking_a_case_with_no_entries_confirms_at_once(
    lists: PublicListActivities, case: FiledCase, publisher: RecordingPublisher
) -> None:
    result = await mask(lists, case)
    assert result.masked == 0
    assert publisher.of("mask") == []


async def test_unconfirmed_masking_raises_a_retryable_error_until_the_publisher_confirms(
    case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    refusing = RecordingPublisher(sessions, refusals=2)
    lists = PublicListActivities(sessions, refusing)
    await _listed_everywhere(lists, case, sessions)

    for attempt in (1, 2):
        with pytest.raises(ApplicationError) as caught:
            await mask(lists, case)
        assert caught.value.type == "MaskNotConfirmed"
        assert caught.value.non_retryable is False  # Temporal keeps retrying while the ladder escalates
        assert "dishonest" in str(caught.value)
        assert refusing.confirms == attempt
    stamps = [(e.id, e.status, e.masked_at) for e in await entries(sessions, case)]
    assert {status for _, status, _ in stamps} == {"masked"}  # masked at once, only the confirmation waited

    result = await mask(lists, case)

    assert result.masked == 8
    assert refusing.confirms == 3
    assert [(e.id, e.status, e.masked_at) for e in await entries(sessions, case)] == stamps
    assert len(refusing.of("mask")) == 3 * 8  # handed over on every attempt: publishers must be idempotent


async def test_a_list_still_showing_outside_the_masked_lists_does_not_block_confirmation(
    case: FiledCase, sessions: async_sessionmaker[AsyncSession]
) -> None:
    refusing = RecordingPublisher(sessions, refusals=5)  # keeps reporting the dishonest list
    lists = PublicListActivities(sessions, refusing)
    await _listed_everywhere(lists, case, sessions)

    result = await mask(lists, case, ["exit-restrictions"])

    assert result.masked == 2


async def test_publisher_receives_masked_identities_only(
    lists: PublicListActivities,
    case: FiledCase,
    sessions: async_sessionmaker[AsyncSession],
    publisher: RecordingPublisher,
) -> None:
    await _listed_everywhere(lists, case, sessions)
    await mask(lists, case)

    sent = " ".join(e.model_dump_json() for _, e in publisher.calls)
    for secret in (PERSON_ID, COMPANY_CODE, "某某路12号", "北京路1188号", "滇池路"):
        assert secret not in sent
    assert "5301************34" in sent


# --- the retry path through Temporal ---


@workflow.defn(name="MaskProbe", sandboxed=False)
class MaskProbe:
    """Stands in for the case workflow: masks with a retry policy, as the closure step will."""

    @workflow.run
    async def run(self, inp: MaskInput) -> MaskResult:
        return await workflow.execute_activity(
            MASK_CASE_ENTRIES,
            inp,
            result_type=MaskResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50), backoff_coefficient=1.0, maximum_attempts=4
            ),
        )


async def _run_probe(
    time_env: WorkflowEnvironment, sqlite_url: str, refusals: int
) -> tuple[MaskResult | None, RecordingPublisher, BaseException | None]:
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    try:
        publisher = RecordingPublisher(sessions, refusals=refusals)
        lists = PublicListActivities(sessions, publisher)
        case = await file_case(sessions)
        await _listed_everywhere(lists, case, sessions)
        queue = f"tq-{uuid.uuid4().hex[:8]}"
        async with Worker(
            time_env.client,
            task_queue=queue,
            workflows=[MaskProbe],
            activities=[lists.mask_case_entries],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            try:
                result = await time_env.client.execute_workflow(
                    MaskProbe.run,
                    MaskInput(case_id=case.id, reason="结案后屏蔽"),
                    id=f"mask-{case.id}",
                    task_queue=queue,
                )
            except WorkflowFailureError as e:
                return None, publisher, e.cause
        return result, publisher, None
    finally:
        await engine.dispose()


async def test_temporal_retries_masking_until_the_publisher_confirms(
    time_env: WorkflowEnvironment, sqlite_url: str
) -> None:
    result, publisher, failure = await _run_probe(time_env, sqlite_url, refusals=2)

    assert failure is None and result is not None
    assert result.masked == 8
    assert publisher.confirms == 3


async def test_masking_never_confirmed_surfaces_as_mask_not_confirmed(
    time_env: WorkflowEnvironment, sqlite_url: str
) -> None:
    result, publisher, failure = await _run_probe(time_env, sqlite_url, refusals=100)

    assert result is None
    assert publisher.confirms == 4  # every attempt of the policy was made: the error is retryable
    assert isinstance(failure, ActivityError)
    assert isinstance(failure.cause, ApplicationError)
    assert failure.cause.type == "MaskNotConfirmed"
