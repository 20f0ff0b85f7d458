"""Who may do what, as a table (issue 9, "the proof"): every endpoint of the OpenAPI × every demo role of the first
basic court, the same role in the other basic court, the high court's administrator, a party and nobody.

A cell is *allowed* when the answer is past access control (2xx, or a 4xx other than 401/403/404: a conflict or a
validation error is the endpoint judging the request, not the caller); *denied* when it is 401, 403 or 404 (a case of
another court is "not found"). One case per court, filed once and reused; the requests are valid for an allowed
caller. A new endpoint without a row fails ``test_the_table_covers_every_endpoint``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tests.api.conftest import Api
from tests.api.helpers import case_body, now_iso
from tests.api.test_agents import parties_setup
from tests.api.test_documents import PDF
from tests.api.test_messages import photo
from tests.api.test_portal import Filed, file_case
from tests.api.test_portal import login as party_login

ROLES = (
    "registrar",
    "handler",
    "clerk",
    "bureau_chief",
    "vice_president",
    "president",
    "discipline",
    "supervisor",
    "admin",
)
LEADERS = ("bureau_chief", "president", "vice_president", "discipline", "supervisor")


@dataclass(frozen=True)
class P:
    """A principal: a staff member (``court`` A = 五华区, the case's court; B = 盘龙区; H = the high court), the
    case's applicant (``party``) or nobody (``anon``)."""

    name: str
    kind: str  # staff | party | anon
    role: str = ""
    court: str = ""


PRINCIPALS = (
    *(P(r, "staff", r, "A") for r in ROLES),
    *(P(r + "2", "staff", r, "B") for r in ROLES),
    P("high_admin", "staff", "admin", "H"),
    P("party", "party"),
    P("anonymous", "anon"),
)


def anyone(p: P) -> bool:
    return True


def staff(p: P) -> bool:
    return p.kind == "staff"


def party(p: P) -> bool:
    return p.kind == "party"


def sees_case(p: P) -> bool:
    """Staff of the case's court or a court above it."""
    return p.kind == "staff" and p.court in ("A", "H")


def roles(*allowed: str, courts: tuple[str, ...] = ("A",)) -> Callable[[P], bool]:
    def rule(p: P) -> bool:
        return p.kind == "staff" and p.role in allowed and p.court in courts

    return rule


def role_anywhere(*allowed: str) -> Callable[[P], bool]:
    return roles(*allowed, courts=("A", "B", "H"))


@dataclass
class Ctx:
    case: Filed
    other_case_id: str
    extension_id: str
    zhongben_id: str
    feedback_id: str
    keys: itertools.count[int]
    message_id: str = ""  # the applicant's message, with a photo (attachment_id)
    attachment_id: int = 0
    document_id: str = ""  # a notice attached by the handler, served to the applicant
    agent_id: int = 0  # an agent registered and dismissed (tests.api.test_agents.parties_setup)
    respondent_id: int = 0

    def key(self) -> dict[str, str]:
        return {"Idempotency-Key": f"matrix-{next(self.keys)}"}


Request = Callable[[Ctx], dict[str, Any]]  # url, method, and httpx keyword arguments


def req(method: str, url: str, **kw: Any) -> Request:
    def build(c: Ctx) -> dict[str, Any]:
        return {
            "method": method,
            "url": url.format(
                case=c.case.id,
                agent=c.agent_id,
                respondent=c.respondent_id,
                ext=c.extension_id,
                zb=c.zhongben_id,
                fb=c.feedback_id,
                msg=c.message_id,
                att=c.attachment_id,
                doc=c.document_id,
            ),
            **kw,
        }

    return build


def node_request(c: Ctx) -> dict[str, Any]:
    node = {"type": "search", "occurred_at": now_iso(-timedelta(minutes=30)), "summary": "搜查住所"}
    return {"method": "POST", "url": f"/api/cases/{c.case.id}/nodes", "json": node, "headers": c.key()}


def feedback_request(c: Ctx) -> dict[str, Any]:
    body = {"measures": "已冻结存款。", "next_steps": "扣划存款。", "applicant_tasks": ""}
    return {"method": "POST", "url": f"/api/cases/{c.case.id}/feedback", "json": body, "headers": c.key()}


def restore_request(c: Ctx) -> dict[str, Any]:
    body = case_body(case_number=c.case.number.replace("执", "执恢"))
    return {"method": "POST", "url": f"/api/cases/{c.case.id}/restore", "json": body}


FILING = case_body()  # one body: the registrar files it, everyone else is refused before anything is written

# "METHOD path" → (who is allowed, the request). "no2xx" rows: see NOT_GRANTED.
TABLE: dict[str, tuple[Callable[[P], bool], Request | None]] = {
    "POST /api/auth/token": (
        anyone,
        req("POST", "/api/auth/token", data={"username": "clerk", "password": "demo-password"}),
    ),
    "GET /api/auth/me": (staff, req("GET", "/api/auth/me")),
    "GET /api/courts": (anyone, req("GET", "/api/courts")),
    "GET /api/node-types": (anyone, req("GET", "/api/node-types")),
    "POST /api/cases": (roles("registrar"), req("POST", "/api/cases", json=FILING)),
    "GET /api/cases/{case_id}": (sees_case, req("GET", "/api/cases/{case}")),
    "POST /api/cases/{case_id}/nodes": (roles("handler", "clerk"), node_request),
    "POST /api/cases/{case_id}/assignment": (
        roles("bureau_chief", "vice_president"),
        req("POST", "/api/cases/{case}/assignment", json={"handler": "handler", "clerk": "clerk"}),
    ),
    "GET /api/cases/{case_id}/history": (roles("admin", courts=("A", "H")), req("GET", "/api/cases/{case}/history")),
    "GET /api/cases/{case_id}/extensions": (sees_case, req("GET", "/api/cases/{case}/extensions")),
    # a pending request exists already: the handler is answered 409, everyone else 403/404
    "POST /api/cases/{case_id}/extensions": (
        roles("handler"),
        req("POST", "/api/cases/{case}/extensions", json={"months": 3, "reason": "财产处置中"}),
    ),
    "POST /api/cases/{case_id}/extensions/{extension_id}/decision": (
        roles("president", "vice_president"),
        req("POST", "/api/cases/{case}/extensions/{ext}/decision", json={"approve": False, "note": "不予延长"}),
    ),
    "POST /api/cases/{case_id}/zhongben-requests": (
        roles("handler"),
        req("POST", "/api/cases/{case}/zhongben-requests", json={"reason": "无可供执行财产"}),
    ),
    "POST /api/cases/{case_id}/zhongben-requests/{request_id}/decision": (
        roles("bureau_chief"),
        req("POST", "/api/cases/{case}/zhongben-requests/{zb}/decision", json={"approve": False, "note": "继续执行"}),
    ),
    # any staff lists what waits for them (an empty list for whoever decides nothing here); deciding by the request's
    # id alone: the deciders of its kind in the case's own court (a court outside the subtree: not found)
    "GET /api/approvals": (staff, req("GET", "/api/approvals")),
    "POST /api/approvals/{approval_id}/decision": (
        roles("president", "vice_president"),
        req("POST", "/api/approvals/{ext}/decision", json={"approve": False, "note": "不予延长"}),
    ),
    "POST /api/cases/{case_id}/restore": (roles("registrar"), restore_request),
    "GET /api/cases/{case_id}/feedback/draft": (
        roles("handler", "clerk"),
        req("GET", "/api/cases/{case}/feedback/draft"),
    ),
    "POST /api/cases/{case_id}/feedback": (roles("handler"), feedback_request),
    "GET /api/cases/{case_id}/feedback": (sees_case, req("GET", "/api/cases/{case}/feedback")),
    "GET /api/sms": (sees_case, req("GET", "/api/sms", params={"case_id": "{case}"})),
    "GET /api/periods": (
        staff,
        req("GET", "/api/periods", params={"start": "2025-09-30", "length": 5, "unit": "working_days"}),
    ),
    "GET /api/calendar/alerts": (role_anywhere("admin"), req("GET", "/api/calendar/alerts")),
    "GET /api/calendar/{year}": (staff, req("GET", "/api/calendar/2026")),
    # 2026 is published: read-only even for the high court's administrator (4xx past access control)
    "PUT /api/calendar/{year}": (
        roles("admin", courts=("H",)),
        req("PUT", "/api/calendar/2026", json={"holidays": [{"day": "2026-01-01", "name": "元旦"}]}),
    ),
    "GET /api/calendar/{year}/audit": (role_anywhere("admin"), req("GET", "/api/calendar/2026/audit")),
    "GET /api/supervision": (role_anywhere(*LEADERS), req("GET", "/api/supervision")),
    "GET /api/inbox": (staff, req("GET", "/api/inbox")),
    "GET /api/admin/stuck-cases": (role_anywhere("admin"), req("GET", "/api/admin/stuck-cases")),
    # the Temporal UI's codec server (api/routes/codec.py): administrators
    "POST /codec/decode": (role_anywhere("admin"), req("POST", "/codec/decode", json={"payloads": []})),
    "POST /codec/encode": (role_anywhere("admin"), req("POST", "/codec/encode", json={"payloads": []})),
    "GET /api/public/{list_name}": (anyone, req("GET", "/api/public/dishonest")),
    # a court's information page: read by anyone, written and its audit read by the court's own administrator
    "GET /api/courts/{court_code}/information": (anyone, req("GET", "/api/courts/YN0102/information")),
    "PUT /api/courts/{court_code}/information": (
        roles("admin"),
        req("PUT", "/api/courts/YN0102/information", json={"hotline": "执行监督电话：0871-12368"}),
    ),
    "GET /api/courts/{court_code}/information/changes": (
        roles("admin"),
        req("GET", "/api/courts/YN0102/information/changes"),
    ),
    "POST /api/portal/token": (anyone, None),  # built from the case: see portal_token
    "GET /api/portal/case": (party, req("GET", "/api/portal/case")),
    "GET /api/portal/feedback": (party, req("GET", "/api/portal/feedback")),
    "POST /api/portal/feedback/{feedback_id}/reply": (
        party,
        req("POST", "/api/portal/feedback/{fb}/reply", json={"text": "收到，谢谢。"}),
    ),
    "POST /api/portal/messages": (party, req("POST", "/api/portal/messages", json={"kind": "message", "text": "您好"})),
    "GET /api/portal/messages": (party, req("GET", "/api/portal/messages")),
    "GET /api/portal/messages/{message_id}/attachments/{attachment_id}": (
        party,
        req("GET", "/api/portal/messages/{msg}/attachments/{att}"),
    ),
    "GET /api/cases/{case_id}/messages": (sees_case, req("GET", "/api/cases/{case}/messages")),
    # the message's rule names its answerer: the case's handler (the discipline head answers complaints)
    "POST /api/cases/{case_id}/messages/{message_id}/reply": (
        roles("handler"),
        req("POST", "/api/cases/{case}/messages/{msg}/reply", json={"text": "已收到。"}),
    ),
    "GET /api/cases/{case_id}/messages/{message_id}/attachments/{attachment_id}": (
        sees_case,
        req("GET", "/api/cases/{case}/messages/{msg}/attachments/{att}"),
    ),
    # documents and e-service (api/routes/documents.py): the same file again is 200, the same document
    "POST /api/cases/{case_id}/documents": (
        roles("handler", "clerk"),
        req("POST", "/api/cases/{case}/documents", data={"title": "执行通知书"}, files={"file": ("通知书.pdf", PDF)}),
    ),
    "GET /api/cases/{case_id}/documents/{document_id}": (sees_case, req("GET", "/api/cases/{case}/documents/{doc}")),
    "GET /api/cases/{case_id}/receipts": (sees_case, req("GET", "/api/cases/{case}/receipts")),
    "GET /api/portal/documents": (party, req("GET", "/api/portal/documents")),
    "GET /api/portal/documents/{document_id}": (party, req("GET", "/api/portal/documents/{doc}")),
    # a case's parties (api/routes/parties.py): the same agent again is 200 with it; the agent dismissed in the set-up
    # dismissed again is 200 and changes nothing; a respondent's address corrected sends no SMS
    "GET /api/cases/{case_id}/parties": (sees_case, req("GET", "/api/cases/{case}/parties")),
    "GET /api/cases/{case_id}/party-changes": (sees_case, req("GET", "/api/cases/{case}/party-changes")),
    "POST /api/cases/{case_id}/agents": (
        roles("registrar", "handler", "clerk"),
        req("POST", "/api/cases/{case}/agents", json={"name": "孙律师", "phone": "13700005555"}),
    ),
    "POST /api/cases/{case_id}/agents/{party_id}/dismissal": (
        roles("registrar", "handler", "clerk"),
        req("POST", "/api/cases/{case}/agents/{agent}/dismissal"),
    ),
    "POST /api/cases/{case_id}/parties/{party_id}/correction": (
        roles("registrar", "handler", "clerk"),
        req(
            "POST",
            "/api/cases/{case}/parties/{respondent}/correction",
            json={"address": "昆明市五华区某路9号", "reason": "更正"},
        ),
    ),
    # last: it ends the token
    "POST /api/auth/logout": (staff, req("POST", "/api/auth/logout")),
}

# Cells where the refusal comes after a check of the case's state that every caller who sees the case meets first:
# restoring an open case is refused to all of them (409/422) — assert only that no one but the registrar succeeds.
NOT_GRANTED = {"POST /api/cases/{case_id}/restore"}


# 403s that judge the request, not the caller: a published year is read-only for its one allowed editor too.
STATE_REFUSALS = {"ScheduleReadOnly"}


def portal_token(c: Ctx) -> dict[str, Any]:
    return {"method": "POST", "url": "/api/portal/token", "json": c.case.login()}


def openapi_operations(api: Api) -> set[str]:
    return {f"{m.upper()} {path}" for path, ops in api.app.openapi()["paths"].items() for m in ops}


async def test_the_table_covers_every_endpoint(api: Api) -> None:
    assert openapi_operations(api) == set(TABLE), "a row per endpoint: add the new endpoint's access rule to TABLE"


async def setup(api: Api) -> Ctx:
    case = await file_case(api)
    other = await api.as_(
        "registrar2",
        "POST",
        "/api/cases",
        json=case_body(
            case_number=case.number.replace("云0102", "云0103"), court_code="YN0103", handler="handler2", clerk="clerk2"
        ),
    )
    assert other.status_code == 201, other.text
    ext = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/extensions",
        json={"months": 3, "reason": "财产处置中"},
        headers={"Idempotency-Key": "setup-ext"},
    )
    assert ext.status_code == 201, ext.text
    zb = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/zhongben-requests",
        json={"reason": "无可供执行财产"},
        headers={"Idempotency-Key": "setup-zb"},
    )
    assert zb.status_code == 201, zb.text
    fb = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/feedback",
        json={"measures": "已查询存款。", "next_steps": "冻结存款。", "applicant_tasks": ""},
        headers={"Idempotency-Key": "setup-fb"},
    )
    assert fb.status_code == 201, fb.text
    msg = await api.http.post(
        "/api/portal/messages",
        data={"kind": "message", "text": "财产线索照片"},
        files=[("attachments", ("线索.png", photo(), "image/png"))],
        headers=await party_login(api, case),
    )
    assert msg.status_code == 201, msg.text
    message_id = msg.json()["message_id"]
    listed = await api.as_("handler", "GET", f"/api/cases/{case.id}/messages")
    [attachment] = listed.json()["items"][0]["attachments"]
    document = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/documents",
        data={"title": "执行通知书"},
        files={"file": ("通知书.pdf", PDF)},
    )
    assert document.status_code == 201, document.text
    return Ctx(
        case,
        other.json()["case_id"],
        ext.json()["id"],
        zb.json()["id"],
        fb.json()["feedback_id"],
        itertools.count(),
        message_id,
        attachment["attachment_id"],
        document.json()["document_id"],
    )


async def test_every_endpoint_answers_only_whom_the_table_allows(api: Api) -> None:
    c = await setup(api)
    c.agent_id, c.respondent_id = await parties_setup(api, c.case)
    party_headers = await party_login(api, c.case)
    wrong: list[str] = []
    for op, (allowed, build) in TABLE.items():
        for p in PRINCIPALS:
            kw = (build or portal_token)(c)
            if "params" in kw:
                kw["params"] = {
                    k: v.format(case=c.case.id) if isinstance(v, str) else v for k, v in kw["params"].items()
                }
            headers = dict(kw.pop("headers", {}))
            if p.kind == "staff":
                headers.update(await api.login(p.name))
            elif p.kind == "party":
                headers.update(party_headers)
            r = await api.http.request(headers=headers, **kw)
            assert r.status_code < 500, f"{op} as {p.name}: {r.status_code} {r.text}"
            denied = r.status_code in (401, 404) or (r.status_code == 403 and r.json()["error"] not in STATE_REFUSALS)
            not_granted = op in NOT_GRANTED and not allowed(p)
            ok = r.status_code >= 400 if not_granted else denied != allowed(p)
            if not ok:
                wrong.append(f"{op} as {p.name}: {r.status_code} {r.text[:200]}")
    assert not wrong, "\n".join(wrong)
