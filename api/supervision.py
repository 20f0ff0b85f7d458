"""Supervision (督办, API.md): obligations about to expire or overdue in a court's subtree, per handler (seed 004).

The case workflows publish their earliest open deadline and the highest ladder rung reached as search attributes
(decision 6: codes and instants only); the visibility query selects the cases, the read model gives the details.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas import HandlerCount, SupervisionItem, SupervisionOut
from db import queries
from db.models import Staff
from domain.errors import Unavailable
from domain.ladder import LEVELS, RUNG_NAMES
from workflows import search_attributes as sa

SUPERVISORS = ("bureau_chief", "president", "vice_president", "discipline", "supervisor")
MAX_CASES = 5000  # cases one listing reads from visibility; a court tree larger than this pages by court
LEVEL_RUNGS = {level: rung for rung, level in LEVELS.items() if level > 0}
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


def visibility_query(court_codes: Sequence[str], horizon: datetime) -> str:
    """Open, running cases of these courts with a deadline by ``horizon`` or a ladder rung reached."""
    codes = ", ".join(f"'{c}'" for c in court_codes if _CODE.match(c))
    due = horizon.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return (
        f"{sa.COURT.name} IN ({codes}) AND {sa.STATUS.name} = 'open' AND ExecutionStatus = 'Running'"
        f" AND ({sa.OVERDUE_LEVEL.name} >= 1 OR {sa.EARLIEST_DUE.name} <= '{due}')"
    )


async def supervised_workflows(client: Client, court_codes: Sequence[str], horizon: datetime) -> list[str]:
    """Workflow ids of the cases to look at, from the visibility store."""
    if not court_codes:
        return []
    try:
        return [
            w.id
            async for w in client.list_workflows(
                visibility_query(court_codes, horizon), page_size=1000, limit=MAX_CASES
            )
        ]
    except RPCError as e:
        raise Unavailable("流程服务暂不可用，请稍后重试 (visibility unavailable)", kind="TemporalUnavailable") from e


async def supervision(session: AsyncSession, client: Client, *, staff: Staff, within_days: int) -> SupervisionOut:
    """What the caller's court and the courts below it must chase: overdue first, then by due instant."""
    now = datetime.now(UTC)
    horizon = now + timedelta(days=within_days)
    court_path = staff.court.path
    codes = await queries.court_codes_in_subtree(session, court_path=court_path)
    workflow_ids = await supervised_workflows(client, codes, horizon)
    rows = await queries.supervised_obligations(
        session, court_path=court_path, horizon=horizon, workflow_ids=workflow_ids
    )
    reached = await queries.rung_times(session, case_ids=[ob.case_id for ob, _, _ in rows])
    items: list[SupervisionItem] = []
    counts: dict[str | None, HandlerCount] = {}
    for ob, handler, handler_name in rows:
        rung = LEVEL_RUNGS.get(ob.level)
        overdue = ob.due_at < now
        items.append(
            SupervisionItem(
                case_id=ob.case_id,
                case_number=ob.case.case_number,
                court_code=ob.case.court_code,
                handler=handler,
                handler_name=handler_name,
                obligation_id=ob.obligation_id,
                rule=ob.rule,
                subject=ob.subject,
                due_at=ob.due_at,
                overdue=overdue,
                level=ob.level,
                rung=rung,
                rung_name=RUNG_NAMES[rung] if rung else None,
                since=(reached.get((ob.case_id, ob.obligation_id, rung)) if rung else None) or ob.opened_at,
            )
        )
        count = counts.setdefault(
            handler, HandlerCount(handler=handler, handler_name=handler_name, due_soon=0, overdue=0)
        )
        if overdue:
            count.overdue += 1
        else:
            count.due_soon += 1
    per_handler = sorted(counts.values(), key=lambda c: (-c.overdue, -c.due_soon, c.handler or ""))
    return SupervisionOut(within_days=within_days, items=items, per_handler=per_handler)
