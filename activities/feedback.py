"""Progress feedback in the read model, written once by the case workflow (seed 002 第五条; decision 1)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db.models import Feedback
from domain.feedback import SAVE_FEEDBACK, SaveFeedbackInput


class FeedbackActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=SAVE_FEEDBACK)
    async def save_feedback(self, inp: SaveFeedbackInput) -> None:
        """Insert the feedback once: its id is the business key, so a retry finds it and writes nothing."""
        async with self._sessions.begin() as s:
            if await s.get(Feedback, inp.feedback_id) is not None:
                return
            s.add(
                Feedback(
                    id=inp.feedback_id,
                    case_id=inp.case_id,
                    n=inp.n,
                    obligation_id=inp.obligation_id,
                    request_id=inp.request_id,
                    measures=inp.measures,
                    next_steps=inp.next_steps,
                    applicant_tasks=inp.applicant_tasks,
                    submitted_by=inp.submitted_by,
                    submitted_at=inp.submitted_at,
                    late=inp.late,
                )
            )
        activity.logger.info("feedback saved", extra={"case_id": inp.case_id, "n": inp.n, "late": inp.late})
