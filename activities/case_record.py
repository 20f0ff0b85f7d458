"""The read model of a case, written idempotently by the workflow's activities (decision 1)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.names import MARK_CASE_CLOSED, MARK_CASE_OPEN, SAVE_NODE
from db.models import Case, Node
from domain.models import CaseClosedInput, CaseOpenedInput, SaveNodeInput


class CaseRecordActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=MARK_CASE_OPEN)
    async def mark_case_open(self, inp: CaseOpenedInput) -> None:
        """The workflow has the case: filing → open (never reopens a closed case)."""
        async with self._sessions.begin() as s:
            await s.execute(update(Case).where(Case.id == inp.case_id, Case.status == "filing").values(status="open"))

    @activity.defn(name=SAVE_NODE)
    async def save_node(self, inp: SaveNodeInput) -> None:
        """Insert the node once: its id is the business key, so a retry finds it and writes nothing."""
        n = inp.node
        async with self._sessions.begin() as s:
            if await s.get(Node, n.node_id) is not None:
                return
            s.add(
                Node(
                    id=n.node_id,
                    case_id=inp.case_id,
                    seq=n.seq,
                    type=n.type,
                    occurred_at=n.occurred_at,
                    entered_at=n.entered_at,
                    late=n.late,
                    disclose=n.disclose,
                    summary=n.summary,
                    fields=n.fields,
                    idempotency_key=n.idempotency_key,
                    recorded_by=n.recorded_by,
                )
            )
        activity.logger.info("node saved", extra={"case_id": inp.case_id, "node_type": n.type})

    @activity.defn(name=MARK_CASE_CLOSED)
    async def mark_case_closed(self, inp: CaseClosedInput) -> None:
        async with self._sessions.begin() as s:
            await s.execute(
                update(Case)
                .where(Case.id == inp.case_id, Case.status != "closed")
                .values(status="closed", closed_at=inp.closed_at, query_ends_at=inp.query_ends_at)
            )
