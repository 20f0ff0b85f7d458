"""Progress feedback in the read model, written once by the case workflow (seed 002 第五条; decision 1)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db import read_model
from domain.feedback import SAVE_FEEDBACK, SaveFeedbackInput


class FeedbackActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=SAVE_FEEDBACK)
    async def save_feedback(self, inp: SaveFeedbackInput) -> None:
        """Insert the feedback once: its id is the business key, so a retry finds it and writes nothing."""
        async with self._sessions.begin() as s:
            wrote = await read_model.save_feedback(s, feedback=inp)
        if wrote:
            activity.logger.info("feedback saved", extra={"case_id": inp.case_id, "n": inp.n, "late": inp.late})
