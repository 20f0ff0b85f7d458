"""The party portal's pages (seed 001 第九条, seed 004): login form with the same lockout as the JSON API, the cookie
session and its logout, CSRF refusal, the case at a glance, the timeline, feedback replies, the end of the online
query, the filing SMS's link and the case QR code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import quote

import httpx
import segno
from sqlalchemy import select, update

from api.portal_pages import COOKIE
from api.qr import qr_code, qr_svg
from db.models import Case, Feedback, Party, SmsMessage
from domain.clock import format_beijing
from domain.portal import portal_link
from domain.secrets import hashed
from tests.api.conftest import Api
from tests.api.helpers import eventually, now_iso
from tests.api.test_portal import APPLICANT_ID, Filed, file_case, record

ORIGIN = {"Origin": "http://yg.test"}


def _text(r: httpx.Response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", r.text))


async def _login(api: Api, case: Filed, **overrides: str) -> httpx.Response:
    data = case.login(**overrides)
    return await api.http.post("/portal", data=data, headers=ORIGIN)


async def _logged_in(api: Api, case: Filed) -> str:
    r = await _login(api, case)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/portal/case"
    token = api.http.cookies.get(COOKIE)
    assert token
    return token


async def test_the_qr_link_fills_in_the_case_number(api: Api) -> None:
    number = "（2026）云0102执88号"
    r = await api.http.get(f"/portal?case={quote(number)}")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert f'name="case_number" value="{number}"' in r.text
    for label in ("案号", "证件号码", "手机号码", "查询码"):
        assert label in _text(r)


async def test_party_logs_in_by_form_into_an_httponly_lax_cookie_and_sees_the_case_at_a_glance(api: Api) -> None:
    case = await file_case(api)
    r = await _login(api, case, query_code=case.code.lower())
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/portal" in cookie

    page = await api.http.get("/portal/case")
    assert page.status_code == 200
    text = _text(page)
    assert case.number in text
    assert "昆明市五华区人民法院" in text
    assert "民间借贷纠纷" in text
    assert "50,000.00 元" in text
    assert "执行中" in text or "立案中" in text
    # handler and clerk with their office phones (seed 001 第三条(二))
    assert re.search(r"承办人\s+王承办\s+办公电话 0871-\d+", text), text
    assert re.search(r"书记员\s+\S+\s+办公电话 0871-\d+", text), text
    assert APPLICANT_ID not in text  # nobody's ID number on the page
    assert case.phone not in text


async def test_a_wrong_query_code_shows_the_chinese_error_and_sets_no_cookie(api: Api) -> None:
    case = await file_case(api)
    r = await _login(api, case, query_code="WRONG2")
    assert r.status_code == 401
    assert "案号、证件号码、手机号码或查询码不正确" in _text(r)
    assert COOKIE not in api.http.cookies
    assert 'name="case_number" value="' + case.number in r.text  # what was typed stays, except the code
    assert "WRONG2" not in r.text


async def test_the_lockout_of_the_json_api_holds_for_the_form(api: Api) -> None:
    case = await file_case(api)
    for _ in range(5):
        r = await _login(api, case, query_code="WRONG2")
        assert r.status_code == 401
    r = await _login(api, case)  # the right code, too late
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert "登录失败次数过多" in _text(r) or "稍后" in _text(r)
    assert COOKIE not in api.http.cookies


async def test_a_login_posted_from_another_site_is_refused(api: Api) -> None:
    case = await file_case(api)
    r = await api.http.post("/portal", data=case.login(), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert "请求来源不正确" in _text(r)
    assert COOKIE not in api.http.cookies


async def test_portal_pages_without_a_login_go_to_the_login(api: Api) -> None:
    for path in ("/portal/case", "/portal/progress"):
        r = await api.http.get(path)
        assert r.status_code == 303
        assert r.headers["location"] == "/portal"
    api.http.cookies.set(COOKIE, "not-a-token", domain="yg.test", path="/portal")
    r = await api.http.get("/portal/case")
    assert r.headers["location"] == "/portal?notice=expired"


async def test_logout_ends_the_token_wherever_it_was_copied(api: Api) -> None:
    case = await file_case(api)
    token = await _logged_in(api, case)
    assert (await api.http.get("/portal/case")).status_code == 200
    r = await api.http.post("/portal/logout", headers=ORIGIN)
    assert r.status_code == 303
    assert r.headers["location"] == "/portal?notice=logged_out"
    assert COOKIE not in api.http.cookies
    # the same token, replayed as a cookie and as the JSON API's bearer, is refused
    api.http.cookies.set(COOKIE, token, domain="yg.test", path="/portal")
    r = await api.http.get("/portal/case")
    assert r.headers["location"] == "/portal?notice=expired"
    r = await api.http.get("/api/portal/case", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json()["error"] == "TokenRevoked"


async def test_the_timeline_shows_disclosed_nodes_newest_first_in_beijing_time(api: Api) -> None:
    case = await file_case(api)
    frozen_at = (datetime.now(UTC) - timedelta(hours=5)).replace(second=0, microsecond=0)
    await record(api, case, {"type": "freeze", "occurred_at": frozen_at.isoformat(), "summary": "冻结存款5万元"}, "a")
    seized = {"type": "seizure", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "查封车辆一辆"}
    await record(api, case, seized, "b")
    hidden = {"type": "search", "occurred_at": now_iso(-timedelta(hours=2)), "summary": "不公开的搜查"}
    await record(api, case, hidden, "c")  # 搜查 is not disclosed to parties
    await _logged_in(api, case)

    async def timeline() -> str:
        return _text(await api.http.get("/portal/progress"))

    text = await eventually(timeline, lambda t: "查封车辆一辆" in t and "冻结存款5万元" in t, seconds=20)
    assert "查封车辆一辆" in text, text
    assert text.index("查封车辆一辆") < text.index("冻结存款5万元")  # newest first
    assert "不公开的搜查" not in text
    assert re.search(r"冻结\s+" + format_beijing(frozen_at), text), text  # its Chinese name, in Beijing time


async def test_the_applicant_replies_to_a_feedback_once_from_the_page(api: Api) -> None:
    case = await file_case(api)
    r = await api.as_(
        "handler",
        "POST",
        f"/api/cases/{case.id}/feedback",
        json={
            "measures": "已冻结被执行人银行存款5万元",
            "next_steps": "拟评估拍卖车辆",
            "applicant_tasks": "提供车辆线索",
        },
    )
    assert r.status_code == 201, r.text
    feedback_id = r.json()["feedback_id"]
    await _logged_in(api, case)

    async def glance() -> str:
        return _text(await api.http.get("/portal/case"))

    text = await eventually(glance, lambda t: "等待您提出意见" in t, seconds=20)
    assert "第1次执行进展反馈等待您提出意见和建议" in text
    assert "法院请您配合：提供车辆线索" in text

    # from another site: refused, nothing recorded
    r = await api.http.post(
        f"/portal/feedback/{feedback_id}/reply", data={"text": "伪造"}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    assert "请求来源不正确" in _text(r)
    # empty: the reason, in Chinese
    r = await api.http.post(f"/portal/feedback/{feedback_id}/reply", data={"text": "  "}, headers=ORIGIN)
    assert r.status_code == 422
    assert "请填写对案件执行的意见和建议" in _text(r)

    r = await api.http.post(f"/portal/feedback/{feedback_id}/reply", data={"text": "请尽快拍卖"}, headers=ORIGIN)
    assert r.status_code == 303
    assert r.headers["location"] == "/portal/progress?notice=replied#feedback-1"
    page = _text(await api.http.get("/portal/progress?notice=replied"))
    assert "您的意见已提交" in page
    assert "请尽快拍卖" in page
    assert "等待您提出意见" not in _text(await api.http.get("/portal/case"))

    r = await api.http.post(f"/portal/feedback/{feedback_id}/reply", data={"text": "再说一次"}, headers=ORIGIN)
    assert r.status_code == 409
    assert "已对这次执行进展反馈提出过意见" in _text(r)
    async with api.sessions() as s:
        reply = await s.scalar(select(Feedback.reply).where(Feedback.id == feedback_id))
    assert reply == "请尽快拍卖"


async def test_after_closure_the_page_says_when_the_online_query_ends_and_then_login_says_it_ended(api: Api) -> None:
    case = await file_case(api)
    await _logged_in(api, case)
    closed = datetime.now(UTC) - timedelta(days=3)
    async with api.sessions() as s:
        await s.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(status="closed", closed_at=closed, query_ends_at=closed + timedelta(days=30))
        )
        await s.commit()
    text = _text(await api.http.get("/portal/case"))
    assert "已结案" in text
    assert "网上查询将于" in text
    assert "结束" in text

    async with api.sessions() as s:
        await s.execute(update(Case).where(Case.id == case.id).values(query_ends_at=datetime.now(UTC) - timedelta(1)))
        await s.commit()
    r = await api.http.get("/portal/case")
    assert r.headers["location"] == "/portal?notice=ended"
    assert "网上查询已结束" in _text(await api.http.get("/portal?notice=ended"))
    api.http.cookies.clear()
    r = await _login(api, case)
    assert r.status_code == 403
    assert "网上查询已于" in _text(r)
    assert COOKIE not in api.http.cookies


async def test_the_filing_sms_carries_the_portal_link(api: Api) -> None:
    case = await file_case(api)
    async with api.sessions() as s:
        body = await s.scalar(
            select(SmsMessage.body).where(SmsMessage.case_id == case.id, SmsMessage.reason == "filed")
        )
    assert body is not None
    link = portal_link(api.settings.public_base_url, case.number)
    assert link in body
    assert f"请登录 {link} 凭身份证号码、手机号码和查询码查询" in body
    r = await api.http.get(link.removeprefix(api.settings.public_base_url))
    assert f'value="{case.number}"' in r.text


async def test_staff_see_the_case_qr_code_pointing_at_the_portal_link(api: Api) -> None:
    case = await file_case(api)
    link = portal_link(api.settings.public_base_url, case.number)
    assert link == api.settings.public_base_url + "/portal?case=" + quote(case.number, safe="")
    # nobody logged in, or a party: to the staff login
    r = await api.http.get(f"/cases/{case.id}/qr.svg")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    staff = await api.login("handler")
    api.http.cookies.set("yg_token", staff["Authorization"].removeprefix("Bearer "), domain="yg.test", path="/")
    r = await api.http.get(f"/cases/{case.id}/qr.svg")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    # the image is segno's code of exactly the portal link (its text, without decoding pixels)
    assert r.content == qr_svg(link)
    code = qr_code(link)
    assert code.mode == "byte" and not code.is_micro
    assert segno.make(link, error="m", micro=False).matrix == code.matrix
    assert f"<title>{link}</title>" in r.text.replace("&amp;", "&")

    page = await api.http.get(f"/cases/{case.id}/qr")
    assert page.status_code == 200
    text = _text(page)
    assert "昆明市五华区人民法院" in text and case.number in text
    assert f"{api.settings.public_base_url}/portal" in text
    assert f'src="/cases/{case.id}/qr.svg"' in page.text

    case_page = await api.http.get(f"/cases/{case.id}")
    assert f'src="/cases/{case.id}/qr.svg"' in case_page.text
    assert f'href="/cases/{case.id}/qr"' in case_page.text

    # staff of another court do not see the case's code
    other = await api.login("handler2")
    api.http.cookies.set("yg_token", other["Authorization"].removeprefix("Bearer "), domain="yg.test", path="/")
    r = await api.http.get(f"/cases/{case.id}/qr.svg")
    assert r.status_code == 404
    assert "image/svg" not in r.headers["content-type"]


async def test_a_respondent_served_electronically_sees_the_case_but_no_applicant_feedback(api: Api) -> None:
    respondent = {"name": "李四", "id_number": "530103198505053234", "phone": "13912345678", "eservice_consent": True}
    case = await file_case(api, respondents=[respondent])
    r = await api.as_(
        "handler", "POST", f"/api/cases/{case.id}/feedback", json={"measures": "已冻结", "next_steps": "拍卖"}
    )
    assert r.status_code == 201, r.text
    async with api.sessions() as s:  # the query code its first e-service SMS brings (api/documents.py)
        party = await s.scalar(select(Party).where(Party.case_id == case.id, Party.role == "respondent"))
        assert party is not None
        party.query_code_hash = await hashed("R2D2C3PQ")
        await s.commit()
    login = {"case_number": case.number, "id_number": respondent["id_number"], "phone": respondent["phone"]}
    r = await api.http.post("/portal", data={**login, "query_code": "R2D2C3PQ"}, headers=ORIGIN)
    assert r.status_code == 303, r.text
    text = _text(await api.http.get("/portal/case"))
    assert "被执行人 李四" in text and "昆明市五华区人民法院" in text
    assert "目前没有需要您办理的事项" in text  # feedback is the applicant's (seed 002 第五条)
    progress = await api.http.get("/portal/progress")
    assert progress.status_code == 200
    assert "执行进展反馈" not in _text(progress)
    assert "<textarea" not in progress.text
