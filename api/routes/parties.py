"""A case's parties over its life (issue 10 item 4): agents registered and dismissed, details corrected, audited —
by the JSON API and by the forms of the staff case page (both through api/parties.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import parties
from api.deps import CurrentStaff, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.parties import AgentIn, CorrectionIn, PartiesOut, PartyChangeResult, PartyChangesOut
from api.routes.pages import PageStaff, _case_form, _case_page, _field_labels
from db.models import Case, Staff
from domain.errors import InvalidInput, YgError

router = APIRouter(tags=["parties"], responses=ERROR_RESPONSES)

PartyId = Annotated[int, Path(ge=1, le=parties.MAX_PARTY_ID, description="当事人（party_id）")]


@router.get("/api/cases/{case_id}/parties")
async def get_parties(case_id: str, staff: CurrentStaff, session: SessionDep) -> PartiesOut:
    """The case's parties with ID numbers and phones masked, agents with whom they act for and when dismissed."""
    return await parties.list_parties(session, staff=staff, case_id=case_id)


@router.get("/api/cases/{case_id}/party-changes")
async def get_party_changes(case_id: str, staff: CurrentStaff, session: SessionDep) -> PartyChangesOut:
    """Every change of the case's parties: agents registered and dismissed, corrections (who, when, old → new)."""
    return await parties.list_changes(session, staff=staff, case_id=case_id)


@router.post("/api/cases/{case_id}/agents", status_code=status.HTTP_201_CREATED)
async def post_agent(
    case_id: str,
    body: AgentIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> PartyChangeResult:
    """Register an agent (委托代理人) on an open case: it gets its own query code by SMS (registrars of the case's
    court, the case's handler or clerk). The same agent again answers 200 and sends nothing."""
    result, created = await parties.add_agent(
        session,
        client,
        staff=staff,
        case_id=case_id,
        body=body,
        settings=settings,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/api/cases/{case_id}/agents/{party_id}/dismissal", status_code=status.HTTP_201_CREATED)
async def post_dismissal(
    case_id: str,
    party_id: PartyId,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> PartyChangeResult:
    """Dismiss an agent (解除委托, seed 002 第四条): it can no longer log in, every portal login of the case's parties
    ends now, and on an open case the applicants it acted for get new query codes by SMS. Again: 200, nothing sent."""
    result, created = await parties.dismiss_agent(
        session,
        client,
        staff=staff,
        case_id=case_id,
        party_id=party_id,
        settings=settings,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/api/cases/{case_id}/parties/{party_id}/correction", status_code=status.HTTP_201_CREATED)
async def post_correction(
    case_id: str,
    party_id: PartyId,
    body: CorrectionIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> PartyChangeResult:
    """Correct a party's phone, name or address, audited; later SMS go to the corrected number, and a party with a
    query code gets a new one there while the case is open. Nothing different from now: 200, nothing changed."""
    result, created = await parties.correct_party(
        session,
        client,
        staff=staff,
        case_id=case_id,
        party_id=party_id,
        body=body,
        settings=settings,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


# ---------------------------------------------------------------- the forms of the staff case page


def _redirect(case_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}?notice={notice}#parties", status_code=303)


def _party_id(value: str | None) -> int:
    if not value or not value.isdigit() or not 1 <= int(value) <= parties.MAX_PARTY_ID:
        raise InvalidInput("请选择当事人", kind="MissingField")
    return int(value)


async def _again(
    request: Request,
    session: AsyncSession,
    staff: Staff,
    case: Case,
    *,
    form: str,
    error: YgError,
    values: Mapping[str, str],
) -> Response:
    """The case page again, the form that failed open with its error and what was typed (the query code never is)."""
    panel = await parties.panel_context(session, case, staff, form=form, error=error, typed=values)
    return await _case_page(request, session, staff, case, extra={"party_panel": panel}, status=error.status)


@router.post("/cases/{case_id}/agents", include_in_schema=False)
async def agent_form(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> Response:
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    me, case, form = posted
    try:
        try:
            body = AgentIn.model_validate(
                {
                    "name": form.get("name", ""),
                    "id_type": form.get("id_type") or None,
                    "id_number": form.get("id_number") or None,
                    "phone": form.get("phone") or None,
                    "principal_id": form.get("principal_id") or None,
                }
            )
        except ValidationError as e:
            raise InvalidInput(f"以下内容填写有误：{_field_labels(e)}", kind="InvalidInput") from None
        _, created = await parties.add_agent(
            session,
            client,
            staff=me,
            case_id=case.id,
            body=body,
            settings=settings,
        )
    except YgError as e:
        return await _again(request, session, me, case, form="agent", error=e, values=form)
    return _redirect(case.id, "agent_added" if created else "agent_repeat")


@router.post("/cases/{case_id}/agents/{party_id}/dismissal", include_in_schema=False)
async def dismissal_form(
    request: Request,
    case_id: str,
    party_id: PartyId,
    staff: PageStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    me, case, form = posted
    try:
        result, created = await parties.dismiss_agent(
            session,
            client,
            staff=me,
            case_id=case.id,
            party_id=party_id,
            settings=settings,
            reason=form.get("reason", "")[:500],
        )
    except YgError as e:
        return await _again(request, session, me, case, form="dismissal", error=e, values=form)
    if not created:
        return _redirect(case.id, "dismissed_repeat")
    return _redirect(case.id, "agent_dismissed" if result.codes_sent else "agent_dismissed_closed")


@router.post("/cases/{case_id}/party-correction", include_in_schema=False)
async def correction_form(
    request: Request, case_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> Response:
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    me, case, form = posted
    try:
        party_id = _party_id(form.get("party_id"))
        if not (form.get("phone") or form.get("name") or form.get("address")):
            raise InvalidInput("请填写要更正的手机号码、姓名或地址", kind="MissingField")
        try:
            body = CorrectionIn.model_validate(
                {
                    "phone": form.get("phone") or None,
                    "name": form.get("name") or None,
                    "address": form.get("address") or None,
                    "reason": form.get("reason", ""),
                }
            )
        except ValidationError as e:
            if any(err["loc"] == ("reason",) for err in e.errors()):
                raise InvalidInput("请填写更正原因", kind="MissingField") from None
            raise InvalidInput(f"以下内容填写有误：{_field_labels(e)}", kind="InvalidInput") from None
        result, created = await parties.correct_party(
            session,
            client,
            staff=me,
            case_id=case.id,
            party_id=party_id,
            body=body,
            settings=settings,
        )
    except YgError as e:
        return await _again(request, session, me, case, form="correction", error=e, values=form)
    if not created:
        return _redirect(case.id, "corrected_same")
    return _redirect(case.id, "corrected_code" if result.codes_sent else "corrected")
