"""The handler's forms on the case page (issue 11 item 1): progress feedback previewed and sent, and restoring a
终本 case, through the same services as the JSON API (api/routes/feedback.py, api/routes/closure.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api import workbench
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.routes import pages
from api.routes.closure import restore_case
from api.routes.feedback import submit_feedback
from api.schemas import CaseIn, FeedbackIn
from domain.errors import InvalidInput, YgError

router = APIRouter(include_in_schema=False)


def _feedback_in(form: dict[str, str]) -> FeedbackIn:
    """The form as the API's FeedbackIn; the guard (domain/guard.py) says what is missing, here only sizes."""
    try:
        return FeedbackIn(
            measures=form.get("measures", ""),
            next_steps=form.get("next_steps", ""),
            applicant_tasks=form.get("applicant_tasks", ""),
        )
    except ValidationError as e:
        raise InvalidInput(f"以下内容填写有误：{pages._field_labels(e)}", kind="InvalidInput") from None


@router.post("/cases/{case_id}/feedback")
async def feedback_form(
    request: Request, case_id: str, staff: pages.PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """``action=preview`` draws the page again with what the applicant will read; ``action=send`` submits it (the
    form's key is the Idempotency-Key: sending the same form twice sends one feedback)."""
    posted = await pages._case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    kept = {k: form.get(k, "") for k in ("measures", "next_steps", "applicant_tasks", "idempotency_key")}
    preview = form.get("action") == "preview"
    try:
        body = _feedback_in(form)
        if preview:
            if not body.measures.strip() or not body.next_steps.strip():
                raise InvalidInput("请填写已采取的执行措施及结果和下一步执行计划", kind="MissingField")
            panel = await workbench.feedback_panel(session, case, staff, form=kept, preview=True)
            return await pages._case_page(request, session, staff, case, extra={"feedback_panel": panel})
        _, created = await submit_feedback(
            session, client, staff=staff, case_id=case.id, body=body, key=kept["idempotency_key"] or None
        )
    except YgError as e:
        panel = await workbench.feedback_panel(session, case, staff, form=kept, error=e)
        return await pages._case_page(request, session, staff, case, extra={"feedback_panel": panel}, status=e.status)
    notice = "feedback_sent" if created else "feedback_repeat"
    return RedirectResponse(f"/cases/{case.id}?notice={notice}#feedback", status_code=303)


@router.post("/cases/{case_id}/restore")
async def restore_form(
    request: Request,
    case_id: str,
    staff: pages.PageStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """File the 执恢 case through the same service as POST /api/cases/{id}/restore (a registrar of the court)."""
    posted = await pages._case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    try:
        try:
            body = CaseIn.model_validate(workbench.restore_body(case, form))
        except ValidationError as e:
            raise InvalidInput(f"以下内容填写有误：{pages._field_labels(e)}", kind="InvalidInput") from None
        filed, _ = await restore_case(session, client, settings, staff=staff, case_id=case.id, body=body)
    except YgError as e:
        panel = await workbench.restore_panel(session, case, staff, form=form, error=e)
        return await pages._case_page(request, session, staff, case, extra={"restore_panel": panel}, status=e.status)
    return RedirectResponse(f"/cases/{filed.case_id}?notice=restored", status_code=303)
