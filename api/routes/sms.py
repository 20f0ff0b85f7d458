"""The SMS a case caused, from the outbox (API.md → Messages to parties)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import messages
from api.access import visible_case
from api.deps import CurrentStaff, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas import SmsOut, Text
from db import queries
from domain.phones import mask_phone
from domain.sms import redact_query_code

router = APIRouter(prefix="/api", tags=["sms"], responses=ERROR_RESPONSES)


@router.get("/sms")
async def list_sms(
    case_id: Annotated[Text, Query(max_length=64, description="案件编号")], staff: CurrentStaff, session: SessionDep
) -> list[SmsOut]:
    case = await visible_case(session, staff, case_id)
    hidden = await messages.hidden_sms(session, staff=staff, cases=[case])  # complaints: discipline only
    return [
        SmsOut(
            reason=m.reason,
            audience="staff" if m.recipient.startswith("staff:") else "party",
            to=mask_phone(m.to),
            body=redact_query_code(m.body),
            status=m.status,
            provider=m.provider,
            created_at=m.created_at,
            sent_at=m.sent_at,
        )
        for m in await queries.sms_of_case(session, case_id=case.id)
        if m.id not in hidden
    ]
