"""Cases whose workflow keeps failing on an activity (admins): from the visibility store, the running case
workflows of the admin's court and the courts below it; describing each (a few at a time) shows the activities
retried after failures. The whole listing keeps within the request's time limit; past it, what was found so
far is returned, marked incomplete."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.history import pending_activity, recent_scheduled_activities
from api.schemas import PendingActivity, StuckCase, StuckCasesOut
from db import queries
from db.models import Case, Staff
from domain.errors import Unavailable
from workflows import search_attributes as sa

STUCK_ATTEMPTS = 2  # an activity on its second attempt or later has failed at least once
LISTING_DEADLINE = timedelta(seconds=25)  # below the API's 30 s per request
DESCRIBE_CONCURRENCY = 16
MAX_CASES = 5000
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


def running_query(court_codes: Sequence[str]) -> str:
    codes = ", ".join(f"'{c}'" for c in court_codes if _CODE.match(c))
    return f"{sa.COURT.name} IN ({codes}) AND ExecutionStatus = 'Running'"


async def stuck_cases(session: AsyncSession, client: Client, *, staff: Staff) -> StuckCasesOut:
    """Stuck cases of the caller's court and the courts below it, stuck longest first."""
    codes = await queries.court_codes_in_subtree(session, court_path=staff.court.path)
    await session.commit()  # no database connection held while Temporal answers
    found: dict[str, list[PendingActivity]] = {}
    try:
        async with asyncio.timeout(LISTING_DEADLINE.total_seconds()):
            complete = await _collect(client, codes, found)
    except TimeoutError:
        complete = False
    except RPCError as e:
        raise Unavailable("流程服务暂不可用，请稍后重试 (Temporal unavailable)", kind="TemporalUnavailable") from e
    cases = await _cases(session, list(found))
    items = [
        StuckCase(
            case_id=case.id,
            case_number=case.case_number,
            court_code=case.court_code,
            activity=p.activity,
            summary=p.summary,
            attempt=p.attempt,
            failure_kind=p.failure_kind,
            last_failure=p.last_failure,
            since=p.since,
            next_attempt_at=p.next_attempt_at,
        )
        for workflow_id, pending in found.items()
        if (case := cases.get(workflow_id)) is not None and case.court_code in codes
        for p in pending
    ]
    items.sort(key=lambda i: (i.since, i.case_number))
    return StuckCasesOut(items=items, complete=complete)


async def _collect(client: Client, codes: Sequence[str], found: dict[str, list[PendingActivity]]) -> bool:
    """Fill ``found``; False when some workflow could not be described (the listing is incomplete)."""
    if not codes:
        return True
    limit = asyncio.Semaphore(DESCRIBE_CONCURRENCY)
    missed: list[str] = []

    async def one(workflow_id: str) -> None:
        async with limit:
            try:
                described = await client.get_workflow_handle(workflow_id).describe()
                if failing := [p for p in described.raw_description.pending_activities if p.attempt >= STUCK_ATTEMPTS]:
                    scheduled = await recent_scheduled_activities(
                        client, workflow_id, described.run_id or "", {p.activity_id for p in failing}
                    )
                    found[workflow_id] = [pending_activity(p, scheduled.get(p.activity_id)) for p in failing]
            except RPCError as e:
                if e.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: ended and gone since the listing
                    missed.append(workflow_id)

    ids = [w.id async for w in client.list_workflows(running_query(codes), page_size=1000, limit=MAX_CASES)]
    async with asyncio.TaskGroup() as group:
        for workflow_id in ids:
            group.create_task(one(workflow_id))
    return not missed


async def _cases(session: AsyncSession, workflow_ids: list[str]) -> dict[str, Case]:
    out: dict[str, Case] = {}
    for i in range(0, len(workflow_ids), 500):
        rows = await session.scalars(select(Case).where(Case.workflow_id.in_(workflow_ids[i : i + 500])))
        out |= {c.workflow_id: c for c in rows.unique()}
    return out
