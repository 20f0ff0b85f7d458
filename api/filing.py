"""Filing a case (立案): validate, store the parties, start the case's workflow (API.md → Cases).

The case row is committed before its workflow starts (the workflow's activities read it). When Temporal cannot
be reached the request answers 503 and the row stays in status ``filing`` with no workflow: every API process
looks for such cases and starts their workflow itself (``start_unstarted_cases``), so none is left behind."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.access import require_role
from api.idempotency import fingerprint
from api.schemas import CaseFiled, CaseIn, PartyIn
from api.updates import within_deadline
from contracts.case import OPEN_CASE
from core.settings import Settings
from db import queries
from db.models import Case, Party, Staff
from domain.case_numbers import parse_case_number
from domain.clock import BEIJING, format_day
from domain.errors import Conflict, Forbidden, InvalidInput, Unavailable
from domain.models import CaseInput, OpenCaseInput, OpenCaseResult
from domain.phones import check_mobile, mask_phone
from domain.rules import CURRENT_VERSION
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow

log = logging.getLogger(__name__)

# How often each API process looks for filed cases without a workflow, how old a case must be (its own request
# may still be starting it), how many it starts per round, and how long one describe may take.
ORPHAN_SCAN_INTERVAL = timedelta(seconds=30)
ORPHAN_GRACE = timedelta(seconds=60)
ORPHAN_BATCH = 50
ORPHAN_DESCRIBE_TIMEOUT = timedelta(seconds=5)


async def file_case(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    *,
    staff: Staff,
    body: CaseIn,
    restored_from: str | None = None,
) -> tuple[CaseFiled, bool]:
    """Return the filed case and whether this request created it; filing the same body twice returns the first case,
    the same number with other data is refused (409) rather than dropped. ``restored_from``: the 终本 case a 执恢 case
    restores, linked as it is written."""
    require_role(staff, "registrar")
    court = await queries.court_by_code(session, code=body.court_code)
    if court is None:
        raise InvalidInput(f"法院代码“{body.court_code}”不存在", kind="UnknownCourt")
    if court.code != staff.court_code:
        raise Forbidden("只能为本院立案 (registrars file cases of their own court)", kind="OtherCourt")
    today = datetime.now(BEIJING).date()
    number = parse_case_number(body.case_number, court_prefix=court.case_prefix, max_year=today.year + 1)
    if body.filed_on > today:
        raise InvalidInput("立案日期不能晚于今天", kind="FutureFiling")
    # The number's year is the year the court received the case; filing follows within days (案号规定).
    if not number.year <= body.filed_on.year <= number.year + 1:
        raise InvalidInput(f"立案日期{format_day(body.filed_on)}与案号年份{number.year}不符", kind="FilingDateMismatch")

    request_hash = fingerprint(body.model_copy(update={"case_number": number.text}))  # the number as normalised
    existing = await queries.case_by_number(session, case_number=number.text)
    if existing is not None:
        _same_filing(existing, request_hash)
        return await _ensure_started(client, settings, existing), False

    handler = await _staff_in_court(session, body.handler, "handler", court.code, "承办人")
    clerk = await _staff_in_court(session, body.clerk, "clerk", court.code, "书记员")
    warnings: list[str] = []
    parties = [
        *[await _party(session, p, "applicant", i, warnings) for i, p in enumerate(body.applicants, 1)],
        *[await _party(session, p, "agent", i, warnings) for i, p in enumerate(body.agents, 1)],
        *[await _respondent(session, p, i, warnings) for i, p in enumerate(body.respondents, 1)],
    ]
    case_id = str(uuid.uuid4())
    case = Case(
        id=case_id,
        case_number=number.text,
        court_code=court.code,
        cause=body.cause,
        amount=body.amount,
        filed_on=body.filed_on,
        has_property=body.has_property,
        handler_id=handler.id if handler else None,
        clerk_id=clerk.id if clerk else None,
        registrar_id=staff.id,
        rule_version=CURRENT_VERSION,
        request_hash=request_hash,
        restored_from=restored_from,
        workflow_id=f"case-{case_id}",
        status="filing",
        created_at=datetime.now(UTC),
    )
    case.parties = parties
    session.add(case)
    try:
        await session.commit()
    except IntegrityError:
        # Filed at the same moment by another request: that one wins, this one returns it.
        await session.rollback()
        existing = await queries.case_by_number(session, case_number=number.text)
        if existing is None:
            raise
        _same_filing(existing, request_hash)
        return await _ensure_started(client, settings, existing), False
    filed = await _ensure_started(client, settings, case)
    filed.warnings = warnings
    return filed, True


def _same_filing(existing: Case, request_hash: str) -> None:
    """Filing a number again is a repeat only with the same data: other parties, amount or dates would otherwise be
    dropped without a word (issue 9 item 5). A case filed before fingerprints were kept is answered as before."""
    if existing.request_hash is not None and existing.request_hash != request_hash:
        raise Conflict(
            f"案号{existing.case_number}已经立案，本次提交的当事人或案件信息与已立案的不一致，未作任何更改；"
            "如需更正已立案的信息，请联系管理员 (case number already filed with other data; nothing changed)",
            kind="CaseAlreadyFiled",
        )


async def _ensure_started(client: Client, settings: Settings, case: Case) -> CaseFiled:
    """Update-with-start with USE_EXISTING: the case's one workflow, started at most once (decision 2)."""
    start = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseInput(
            case_id=case.id,
            case_number=case.case_number,
            court_code=case.court_code,
            filed_on=case.filed_on,
            handler=case.handler.username if case.handler else None,
            has_property=case.has_property,
            rule_version=case.rule_version,
            max_events_per_run=settings.max_events_per_run,
        ),
        id=case.workflow_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.COURT, case.court_code),
                SearchAttributePair(sa.STATUS, "open"),
                SearchAttributePair(sa.HANDLER, case.handler.username if case.handler else ""),
            ]
        ),
        static_summary=f"执行案件 {case.case_number}",
    )
    try:
        # Bounded as a whole (api/updates.py): the open update waits for the filing's activities.
        await within_deadline(
            lambda rpc_timeout: client.execute_update_with_start_workflow(
                OPEN_CASE,
                OpenCaseInput(request_id=case.id),
                start_workflow_operation=start,
                id="open",
                result_type=OpenCaseResult,
                rpc_timeout=rpc_timeout,
            )
        )
    except WorkflowAlreadyStartedError:
        pass  # the case's workflow ran and ended (closed case): nothing to start
    except (RPCError, Unavailable) as e:
        raise Unavailable(
            "案件已登记，但流程服务暂不可用；系统将自动启动案件流程，也可稍后重试同一请求"
            " (Temporal unavailable; the workflow starts once it is back, or retry the same request)",
            kind="TemporalUnavailable",
        ) from e
    return CaseFiled(case_id=case.id, workflow_id=case.workflow_id, case_number=case.case_number)


async def start_unstarted_cases(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings
) -> list[str]:
    """Start the workflow of every case filed while Temporal was unreachable; return their ids.

    A case still in ``filing`` after the grace period either has a workflow that has not yet opened it (left
    alone: GET /api/admin/stuck-cases shows why) or none at all (started, with the same update-with-start and
    USE_EXISTING as its filing, so a second API process doing the same starts nothing twice)."""
    cutoff = datetime.now(UTC) - ORPHAN_GRACE
    async with sessions() as s:
        rows = await s.scalars(
            select(Case)
            .where(Case.status == "filing", Case.created_at <= cutoff)
            .order_by(Case.created_at)
            .limit(ORPHAN_BATCH)
        )
        cases = list(rows.unique())
    started: list[str] = []
    for case in cases:
        try:
            async with asyncio.timeout(ORPHAN_DESCRIBE_TIMEOUT.total_seconds()):
                await client.get_workflow_handle(case.workflow_id).describe()
            continue
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise  # Temporal still unreachable: the next round tries again
        # Unavailable here: started, not yet open (its open update outlived the deadline); it opens on its own.
        with contextlib.suppress(Unavailable):
            await _ensure_started(client, settings, case)
        started.append(case.id)
        log.info("workflow started for a case filed while Temporal was unreachable", extra={"case_id": case.id})
    return started


async def _staff_in_court(
    session: AsyncSession, username: str | None, role: str, court_code: str, label: str
) -> Staff | None:
    if not username:
        return None
    staff = await queries.staff_by_username(session, username=username)
    if staff is None or staff.role != role or staff.court_code != court_code or not staff.active:
        kind = "UnknownHandler" if role == "handler" else "UnknownClerk"
        raise InvalidInput(f"{label}“{username}”不是本院在职的{label}", kind=kind)
    return staff


async def _party(session: AsyncSession, p: PartyIn, role: str, index: int, warnings: list[str]) -> Party:
    """An applicant or agent: the SMS number must be a real mainland mobile of their own (rule ``phone``)."""
    label = f"{'申请执行人' if role == 'applicant' else '委托代理人'}{index}（{p.name}）"
    phone, flag = await checked_phone(
        session, p.phone, label=label, name=p.name, id_number=p.id_number, warnings=warnings
    )
    return Party(
        role=role,
        name=p.name,
        id_type=p.id_type,
        id_number=p.id_number,
        phone=phone,
        address=p.address,
        eservice_consent=p.eservice_consent,
        phone_flag=flag,
    )


async def checked_phone(
    session: AsyncSession, raw: str | None, *, label: str, name: str, id_number: str | None, warnings: list[str]
) -> tuple[str, str | None]:
    """A party's SMS number by the ``phone`` rule (seed 000): a real mainland mobile, not a court staff member's;
    one another applicant already uses is kept but flagged (``shared_phone``, with a warning). Used at filing and
    when an agent is added or a phone corrected (api/parties.py)."""
    if not raw:
        raise InvalidInput(f"{label}未填写手机号码，无法推送短信", kind="MissingPhone")
    try:
        phone = check_mobile(raw)
    except InvalidInput as e:
        raise InvalidInput(f"{label}：{e.detail}", kind=e.kind) from None
    if await queries.staff_with_phone(session, phone=phone):
        raise InvalidInput(
            f"{label}：手机号码{mask_phone(phone)}是本系统法院工作人员的号码，不能作为当事人号码",
            kind="StaffPhone",
        )
    flag = None
    if await queries.other_applicant_with_phone(session, phone=phone, name=name, id_number=id_number):
        flag = "shared_phone"
        warnings.append(f"{label}：手机号码{mask_phone(phone)}已被其他案件的不同当事人使用，请核实")
    return phone, flag


async def _respondent(session: AsyncSession, p: PartyIn, index: int, warnings: list[str]) -> Party:
    """A respondent: its SMS number is kept, and checked like an applicant's, only when it consented to e-service
    (seed 001 第十一条: documents served electronically, api/documents.py); otherwise the court sends it nothing."""
    phone = None
    if p.eservice_consent:
        label = f"被执行人{index}（{p.name}）"
        phone, _ = await checked_phone(
            session, p.phone, label=label, name=p.name, id_number=p.id_number, warnings=warnings
        )
    return Party(
        role="respondent",
        name=p.name,
        id_type=p.id_type,
        id_number=p.id_number,
        address=p.address,
        phone=phone,
        eservice_consent=p.eservice_consent,
    )
