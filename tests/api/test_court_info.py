"""The court information page (issue 10 item 6): the court's administrator writes it, the public reads it without
login, every change is audited, text is shown as text; and the public list pages search and page."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually


def _sections(body: dict[str, Any]) -> dict[str, str]:
    return {s["section"]: s["text"] for s in body["sections"]}


async def test_the_demo_courts_start_with_default_information_readable_without_login(api: Api) -> None:
    r = await api.http.get("/api/courts/YN0102/information")

    assert r.status_code == 200
    assert r.json()["court"] == "昆明市五华区人民法院"
    sections = _sections(r.json())
    assert list(sections) == ["guide", "fees", "risk", "hotline", "mailbox"]
    assert "向昆明市五华区人民法院申请执行" in sections["guide"]
    assert "12368" in sections["hotline"]
    page = await api.http.get("/public/courts/YN0102")
    assert page.status_code == 200
    for title in ("申请执行指南", "收费标准", "执行风险提示", "监督电话", "执行局长信箱"):
        assert title in page.text


async def test_the_court_admin_changes_a_section_and_the_change_is_audited(api: Api) -> None:
    r = await api.as_("admin", "PUT", "/api/courts/YN0102/information", json={"hotline": "监督电话：0871-6000000\r\n"})

    assert r.status_code == 200, r.text
    assert _sections(r.json())["hotline"] == "监督电话：0871-6000000"
    assert _sections(r.json())["fees"].startswith("申请执行费")  # left out: unchanged
    changes = (await api.as_("admin", "GET", "/api/courts/YN0102/information/changes")).json()["items"]
    assert [(c["section"], c["title"], c["changed_by"], c["text"]) for c in changes] == [
        ("hotline", "监督电话", "孙信息", "监督电话：0871-6000000")
    ]
    # the same text again is no change
    await api.as_("admin", "PUT", "/api/courts/YN0102/information", json={"hotline": "监督电话：0871-6000000"})
    assert len((await api.as_("admin", "GET", "/api/courts/YN0102/information/changes")).json()["items"]) == 1
    assert "0871-6000000" in (await api.http.get("/public/courts/YN0102")).text


async def test_only_the_court_s_own_admin_writes_its_information(api: Api) -> None:
    body = {"hotline": "篡改"}
    other_court = await api.as_("admin2", "PUT", "/api/courts/YN0102/information", json=body)
    not_admin = await api.as_("bureau_chief", "PUT", "/api/courts/YN0102/information", json=body)
    anonymous = await api.http.put("/api/courts/YN0102/information", json=body)
    audit = await api.as_("admin2", "GET", "/api/courts/YN0102/information/changes")

    assert (other_court.status_code, other_court.json()["error"]) == (403, "CourtNotAllowed")
    assert (not_admin.status_code, not_admin.json()["error"]) == (403, "RoleNotAllowed")
    assert anonymous.status_code == 401
    assert audit.status_code == 403
    assert "篡改" not in (await api.http.get("/api/courts/YN0102/information")).text


async def test_markup_is_shown_as_text_and_paragraphs_stay_paragraphs(api: Api) -> None:
    text = '第一段<script>alert("x")</script>\n第一段第二行\n\n第二段 <b>粗体</b>'
    r = await api.as_("admin", "PUT", "/api/courts/YN0102/information", json={"risk": text})
    assert r.status_code == 200

    page = (await api.http.get("/public/courts/YN0102")).text

    assert "<script>alert" not in page and "<b>粗体</b>" not in page
    assert "第一段&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>第一段第二行</p>" in page
    assert "<p>第二段 &lt;b&gt;粗体&lt;/b&gt;</p>" in page


async def test_too_long_a_section_is_refused_and_nothing_changes(api: Api) -> None:
    r = await api.as_("admin", "PUT", "/api/courts/YN0102/information", json={"hotline": "电" * 501, "fees": "新"})

    assert r.status_code == 422
    assert "监督电话（hotline）不能超过 500 个字符" in r.json()["detail"]
    assert _sections((await api.http.get("/api/courts/YN0102/information")).json())["fees"] != "新"


async def test_an_unknown_court_is_404(api: Api) -> None:
    r = await api.http.get("/api/courts/XX99/information")
    page = await api.http.get("/public/courts/XX99")

    assert (r.status_code, r.json()["error"]) == (404, "UnknownCourt")
    assert page.status_code == 404 and "法院代码“XX99”不存在" in page.text


async def test_the_console_form_saves_for_the_admin_and_refuses_a_cross_site_post(api: Api) -> None:
    token = (await api.login("admin"))["Authorization"].removeprefix("Bearer ")
    api.http.cookies.set("yg_token", token)  # the console's cookie
    form = (await api.http.get("/admin/court-information")).text
    assert "本院公开信息" in form and "昆明市五华区人民法院" in form

    texts = {"guide": "指南", "fees": "收费", "risk": "风险", "hotline": "电话", "mailbox": "信箱"}
    cross = await api.http.post("/admin/court-information", data=texts, headers={"Origin": "http://evil.test"})
    assert cross.status_code == 403
    saved = await api.http.post("/admin/court-information", data=texts)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/court-information?saved=1"
    assert _sections((await api.http.get("/api/courts/YN0102/information")).json()) == texts

    clerk = (await api.login("clerk"))["Authorization"].removeprefix("Bearer ")
    api.http.cookies.set("yg_token", clerk)
    refused = await api.http.get("/admin/court-information")
    assert refused.status_code == 404 and "信息技术管理员" in refused.text


async def test_the_list_pages_search_by_name_or_case_number_and_page_through(api: Api) -> None:
    respondents = [{"name": f"被执行人{i:02d}", "address": "云南省昆明市五华区某路1号"} for i in range(12)]
    first = await api.as_("registrar", "POST", "/api/cases", json=case_body(respondents=respondents))
    other = await api.as_("registrar", "POST", "/api/cases", json=case_body(respondents=[{"name": "赵六"}]))
    assert first.status_code == other.status_code == 201

    async def total(**params: str) -> int:
        r = await api.http.get("/api/public/unfinished-cases", params=params)
        return int(r.json()["total"])

    assert await eventually(total, lambda n: n == 13) == 13
    assert await total(q="赵六") == 1
    assert await total(q="被执行人0") == 10
    number = first.json()["case_number"]
    assert await total(q=number.replace("（", "(").replace("）", ")")) == 12  # half-width brackets typed
    assert await total(q="%") == 0  # a wildcard is a character

    page1 = (await api.http.get("/public/lists/unfinished-cases", params={"q": number})).text
    page2 = (await api.http.get("/public/lists/unfinished-cases", params={"q": number, "page": "2"})).text
    assert "共 <strong>12</strong> 条" in page1 and "第 1 / 2 页" in page1 and "第 2 / 2 页" in page2
    assert page1.count("<tr>") - 1 == 10 and page2.count("<tr>") - 1 == 2
    assert "赵六" not in page1
    nothing = (await api.http.get("/public/lists/unfinished-cases", params={"q": "不存在的人"})).text
    assert "没有找到与“不存在的人”相符的记录" in nothing
    bad_page = await api.http.get("/public/lists/unfinished-cases", params={"page": "abc"})
    assert bad_page.status_code == 200 and "第 1 / 2 页" in bad_page.text
    unknown = await api.http.get("/public/lists/everyone")
    assert unknown.status_code == 404 and "没有名为“everyone”的公开名单" in unknown.text
