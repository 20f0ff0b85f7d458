"""The read model of a case, written idempotently by the workflow's activities (decision 1)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.names import MARK_CASE_CLOSED, MARK_CASE_OPEN, SAVE_NODE
from db import read_model
from domain.models import CaseClosedInput, CaseOpenedInput, SaveNodeInput


class CaseRecordActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=MARK_CASE_OPEN)
    async def mark_case_open(self, inp: CaseOpenedInput) -> None:
        """The workflow has the case: filing → open (never reopens a closed case)."""
        async with self._sessions.begin() as s:
            await read_model.mark_case_open(s, case_id=inp.case_id)

    @activity.defn(name=SAVE_NODE)
    async def save_node(self, inp: SaveNodeInput) -> None:
        """Insert the node once: its id is the business key, so a retry finds it and writes nothing."""
        async with self._sessions.begin() as s:
            wrote = await read_model.save_node(s, case_id=inp.case_id, node=inp.node)
        if wrote:
            activity.logger.info("node saved", extra={"case_id": inp.case_id, "node_type": inp.node.type})

    @activity.defn(name=MARK_CASE_CLOSED)
    async def mark_case_closed(self, inp: CaseClosedInput) -> None:
        async with self._sessions.begin() as s:
            await read_model.mark_case_closed(
                s, case_id=inp.case_id, closed_at=inp.closed_at, query_ends_at=inp.query_ends_at
            )
