"""Approvals waiting for me (API.md → Approvals; issue 11 item 2), against a real worker: a handler's request reaches
its approvers at once (their list, their inbox, an SMS each), only in the case's own court and only the roles the
rules name; the decision through the one path reaches the handler (inbox and SMS); nothing is sent twice."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import httpx
from sqlalchemy import select

from db.models import Staff
from tests.api.conftest import Api
from tests.api.helpers import case_body, console_page, eventually
from tests.api.test_portal import file_case
from tests.api.test_portal import login as party_login
from tests.conftest import PhonesOutbox

REASON = "被执行人名下房产正在网络拍卖，需延长执行期限"


def assert_error(r: httpx.Response, status: int, kind: str) -> None:
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "detail"}, r.json()
    assert r.json()["error"] == kind, r.json()


async def _file(api: Api) -> tuple[str, str]:
    body = case_body()
    r = await api.as_("registrar", "POST", "/api/cases", json=body)
    assert r.status_code == 201, r.text
    return r.json()["case_id"], body["case_number"]


async def _mobiles(api: Api) -> dict[str, str]:
    async with api.sessions() as s:
        return {st.username: st.mobile or "" for st in (await s.scalars(select(Staff))).all()}


async def _sms(api: Api, phone: str) -> list[str]:
    """The approvals' SMS the phone received (the ladder's reminders reach the handler too)."""
    assert isinstance(api.worker.deps.sms, PhonesOutbox)
    return [text for to, text in api.worker.deps.sms.delivered if to == phone and "审批" in text]


async def _approvals(api: Api, user: str) -> list[dict[str, Any]]:
    r = await api.as_(user, "GET", "/api/approvals")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _inbox(api: Api, user: str, kind: str) -> list[dict[str, Any]]:
    r = await api.as_(user, "GET", "/api/inbox")
    assert r.status_code == 200, r.text
    return [i for i in r.json()["items"] if i["kind"] == kind]


async def test_extension_request_reaches_its_approvers_and_the_decision_reaches_the_handler(api: Api) -> None:
    case_id, number = await _file(api)
    phones = await _mobiles(api)
    r = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case_id}/extensions",
        json={"months": 3, "reason": REASON},
        headers={"Idempotency-Key": "appr-1"},
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]

    # The president and the vice president of the case's court decide extensions (rule data): both see it.
    for user in ("president", "vice_president"):
        [item] = await _approvals(api, user)
        assert item == {
            "approval_id": request_id,
            "case_id": case_id,
            "case_number": number,
            "kind": "extension",
            "kind_name": "延长执行期限",
            "months": 3,
            "requested_by": "王承办",  # the requester's name, not the username
            "requested_at": item["requested_at"],
            "reason": REASON,
            "waived_conditions": [],
        }
        [waiting] = await _inbox(api, user, "approval")
        assert (waiting["approval_id"], waiting["subject"], waiting["requested_by"]) == (
            request_id,
            "待您审批：延长执行期限",
            "王承办",
        )
    # Nobody else: the bureau chief (another kind), the handler, the other court's president, the high court.
    others = ("bureau_chief", "handler", "discipline", "president2", "vice_president2", "high_admin", "mid_president")
    for user in others:
        assert await _approvals(api, user) == [], user
        assert await _inbox(api, user, "approval") == [], user

    # Each approver has one SMS in words: the case number, who asks, what; no one else does.
    for user in ("president", "vice_president"):
        [text] = await eventually(partial(_sms, api, phones[user]), lambda t: len(t) == 1, seconds=20)
        assert number in text and "王承办" in text and "延长执行期限3个月" in text and "待您审批" in text, text
    for user in ("bureau_chief", "president2", "handler"):
        assert await _sms(api, phones[user]) == [], user

    # Another court's president does not find it; the bureau chief of the court may not decide it.
    decision = {"approve": True, "note": "同意延长三个月"}
    assert_error(
        await api.as_("president2", "POST", f"/api/approvals/{request_id}/decision", json=decision), 404, "CaseNotFound"
    )
    assert_error(  # the president of the court above sees the case, but decides only its own court's requests
        await api.as_("mid_president", "POST", f"/api/approvals/{request_id}/decision", json=decision),
        403,
        "OtherCourt",
    )
    assert_error(
        await api.as_("bureau_chief", "POST", f"/api/approvals/{request_id}/decision", json=decision),
        403,
        "RoleNotAllowed",
    )
    r = await api.as_("president", "POST", f"/api/approvals/{request_id}/decision", json=decision)
    assert r.status_code == 200, r.text
    decided = r.json()
    assert (decided["status"], decided["status_name"], decided["decided_by"], decided["note"]) == (
        "approved",
        "已批准",
        "张院长",
        "同意延长三个月",
    )
    assert decided["term_due_at"] is not None

    # It waits for no one any more; the handler reads the decision in the inbox and by SMS.
    assert await _approvals(api, "vice_president") == []
    assert await _approvals(api, "president") == []
    [told] = await _inbox(api, "handler", "decision")
    assert (told["approval_id"], told["status"], told["decided_by"], told["note"]) == (
        request_id,
        "approved",
        "张院长",
        "同意延长三个月",
    )
    assert told["subject"] == "审批结果：延长执行期限已批准"
    [text] = await eventually(lambda: _sms(api, phones["handler"]), lambda t: len(t) == 1, seconds=20)
    assert number in text and "延长执行期限申请已批准" in text and "张院长" in text, text
    # The president's decision is in their inbox with all=1 only.
    r = await api.as_("president", "GET", "/api/inbox", params={"all": "true"})
    assert [i["status"] for i in r.json()["items"] if i["kind"] == "approval"] == ["approved"]

    # The same decision again answers the same and sends nothing; the opposite one is refused.
    again = await api.as_("president", "POST", f"/api/approvals/{request_id}/decision", json=decision)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "approved"
    opposite = {"approve": False, "note": "不同意"}
    refused = await api.as_("vice_president", "POST", f"/api/approvals/{request_id}/decision", json=opposite)
    assert_error(refused, 409, "ExtensionDecided")
    assert refused.json()["detail"] == "该申请已由张院长批准，不能再作相反决定", refused.json()
    assert len(await _sms(api, phones["handler"])) == 1
    assert len(await _sms(api, phones["president"])) == 1


async def test_zhongben_exception_goes_to_the_bureau_chief_and_a_refusal_reaches_the_handler(api: Api) -> None:
    case_id, number = await _file(api)
    phones = await _mobiles(api)
    r = await api.as_(
        "handler", "POST", f"/api/cases/{case_id}/zhongben-requests", json={"reason": "被执行人确无可供执行财产"}
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    [item] = await _approvals(api, "bureau_chief")
    assert (item["kind"], item["kind_name"], item["months"]) == ("zhongben", "终本结案审批", 0)
    assert item["waived_conditions"], item  # a case filed two days ago misses conditions (seed 003)
    for user in ("president", "vice_president", "bureau_chief2"):
        assert await _approvals(api, user) == [], user
    [text] = await eventually(lambda: _sms(api, phones["bureau_chief"]), lambda t: len(t) == 1, seconds=20)
    assert number in text and "终本结案审批" in text, text

    r = await api.as_(
        "bureau_chief",
        "POST",
        f"/api/approvals/{request_id}/decision",
        json={"approve": False, "note": "尚未穷尽财产调查措施"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"], r.json()["term_due_at"]) == ("refused", "陈局长", None)
    [told] = await _inbox(api, "handler", "decision")
    assert (told["status_name"], told["note"]) == ("已驳回", "尚未穷尽财产调查措施")
    [text] = await eventually(lambda: _sms(api, phones["handler"]), lambda t: len(t) == 1, seconds=20)
    assert "终本结案审批申请未获批准" in text and "陈局长" in text, text
    assert await _approvals(api, "bureau_chief") == []


async def test_unknown_approval_and_bad_body_change_nothing(api: Api) -> None:
    assert_error(
        await api.as_("president", "POST", "/api/approvals/nope/decision", json={"approve": True}),
        404,
        "ApprovalNotFound",
    )
    too_long = await api.as_("president", "POST", f"/api/approvals/{'x' * 65}/decision", json={"approve": True})
    assert_error(too_long, 422, "InvalidInput")
    assert "审批申请编号" in too_long.json()["detail"], too_long.json()
    case_id, _ = await _file(api)
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/extensions", json={"months": 2, "reason": REASON})
    request_id = r.json()["id"]
    for body in ({"note": "缺少决定"}, {"approve": "也许"}, {"approve": True, "note": "字" * 2001}):
        r = await api.as_("president", "POST", f"/api/approvals/{request_id}/decision", json=body)
        assert_error(r, 422, "InvalidInput")
    [item] = await _approvals(api, "president")
    assert item["approval_id"] == request_id


async def test_the_discipline_head_sees_complaints_on_the_supervision_page_and_a_handler_is_refused(api: Api) -> None:
    case = await file_case(api)
    r = await api.http.post(
        "/api/portal/messages",
        json={"kind": "complaint", "text": "承办人长期不回复"},
        headers=await party_login(api, case),
    )
    assert r.status_code == 201, r.text
    page = await console_page(api, "discipline", "/supervision")
    assert page.status_code == 200, page.text
    complaints = page.text.split('id="complaints"', 1)[1].split("</section>", 1)[0]
    assert case.number in complaints and "投诉" in complaints, complaints
    assert "承办人长期不回复" not in page.text  # the text is read on the case page, not listed here
    president = await console_page(api, "president", "/supervision")
    assert president.status_code == 200 and 'id="complaints"' not in president.text
    refused = await console_page(api, "handler", "/supervision")
    assert refused.status_code == 403 and "无权查看" in refused.text


async def test_the_approvals_page_decides_in_place_and_says_why_a_decision_is_refused(api: Api) -> None:
    case_id, number = await _file(api)
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/extensions", json={"months": 2, "reason": REASON})
    request_id = r.json()["id"]
    page = await console_page(api, "vice_president", "/approvals")
    assert page.status_code == 200 and f'data-id="{request_id}"' in page.text and number in page.text
    fetched = {"HX-Request": "true"}  # htmx, the page's partial updates
    # Decided meanwhile by the president: the vice president's refusal answers the card with the reason, in Chinese.
    decided = await api.as_("president", "POST", f"/api/approvals/{request_id}/decision", json={"approve": True})
    assert decided.status_code == 200, decided.text
    refused = await api.http.post(
        f"/approvals/{request_id}/decision", data={"decision": "refuse", "note": "不同意"}, headers=fetched
    )
    assert refused.status_code == 409, refused.text
    assert "该申请已由张院长批准，不能再作相反决定" in refused.text and "<html" not in refused.text
    # A cross-site post is refused and decides nothing; no choice is a 422 naming what is missing.
    other = await api.as_("handler", "POST", f"/api/cases/{case_id}/zhongben-requests", json={"reason": "无财产"})
    zb = other.json()["id"]
    chief = await console_page(api, "bureau_chief", "/approvals")
    assert f'data-id="{zb}"' in chief.text
    cross = await api.http.post(
        f"/approvals/{zb}/decision", data={"decision": "approve"}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403 and "请求来源不正确" in cross.text
    missing = await api.http.post(f"/approvals/{zb}/decision", data={"note": "同意"}, headers=fetched)
    assert missing.status_code == 422 and "请选择批准或驳回" in missing.text
    assert [i["approval_id"] for i in await _approvals(api, "bureau_chief")] == [zb]
    approve = {"decision": "approve", "note": "同意"}
    done = await api.http.post(f"/approvals/{zb}/decision", data=approve, headers=fetched)
    assert done.status_code == 200 and "已批准" in done.text and "陈局长" in done.text, done.text
    assert await _approvals(api, "bureau_chief") == []


async def test_the_approvals_poll_brings_new_requests_and_says_which_no_longer_wait(api: Api) -> None:
    """The page's poll sends the cards it shows; htmx puts each part of the answer in its place (out of band)."""
    first_case, _ = await _file(api)
    r = await api.as_("handler", "POST", f"/api/cases/{first_case}/extensions", json={"months": 2, "reason": REASON})
    first = r.json()["id"]
    second_case, second_number = await _file(api)
    r = await api.as_("handler", "POST", f"/api/cases/{second_case}/extensions", json={"months": 1, "reason": REASON})
    second = r.json()["id"]
    page = await console_page(api, "president", "/approvals")
    assert f'id="approval-form-{first}"' in page.text and 'id="approvals-count"' in page.text
    hx = {"HX-Request": "true"}

    # The page shows the first; the second is new to it and joins the list, the count says two.
    poll = await api.http.get("/approvals/items", params={"shown": [first]}, headers=hx)
    assert poll.status_code == 200 and "<html" not in poll.text
    joining = poll.text.split('hx-swap-oob="beforeend:#approval-list">', 1)[1].split("</div>\n", 1)[0]
    assert f'data-id="{second}"' in joining and second_number in joining and f'data-id="{first}"' not in joining
    assert re.search(r'id="approvals-count" hx-swap-oob="true">2<', poll.text), poll.text

    # Decided meanwhile by the vice president: the card's form gives way to why, and the count falls to one.
    decided = await api.as_("vice_president", "POST", f"/api/approvals/{first}/decision", json={"approve": True})
    assert decided.status_code == 200, decided.text
    poll = await api.http.get("/approvals/items", params={"shown": [first, second]}, headers=hx)
    gone = re.search(rf'<p class="approval-gone" id="approval-form-{first}" hx-swap-oob="true">([^<]+)</p>', poll.text)
    assert gone and "不再等待您审批" in gone.group(1), poll.text
    assert f'id="approval-form-{second}"' not in poll.text  # still waiting and shown: left as it is
    assert re.search(r'id="approvals-count" hx-swap-oob="true">1<', poll.text), poll.text

    # A session that ended sends the whole window to the login form, not a login form into the list.
    api.http.cookies.clear()
    expired = await api.http.get("/approvals/items", params={"shown": [second]}, headers=hx)
    assert expired.status_code == 204 and expired.headers["HX-Redirect"] == "/login?next=/approvals"
