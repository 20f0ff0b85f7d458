"""Administration: what needs an administrator's attention (admins of a court; upper courts their subtree)."""

from __future__ import annotations

from fastapi import APIRouter

from api.access import require_role
from api.deps import CurrentStaff, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.schemas import StuckCasesOut
from api.stuck_cases import stuck_cases

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.get("/stuck-cases")
async def get_stuck_cases(staff: CurrentStaff, session: SessionDep, client: TemporalDep) -> StuckCasesOut:
    """Cases whose workflow keeps failing on an activity: which, how many attempts, the last failure's kind."""
    require_role(staff, "admin")
    return await stuck_cases(session, client, staff=staff)
