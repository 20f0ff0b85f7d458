"""Identity numbers are checked at filing (issue 10 item 5): a bad number is a 422 naming the field and the problem,
and nothing is stored; a good one is stored normalised with its document type."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Case, Party
from tests.api.conftest import Api
from tests.api.helpers import case_body
from tests.api.test_portal import file_case

APPLICANT = {"name": "张三", "phone": "13912345678", "eservice_consent": True}


async def _cases(api: Api) -> int:
    async with api.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Case)) or 0)


async def _parties(api: Api, case_id: str) -> list[tuple[str, str | None, str | None]]:
    async with api.sessions() as s:
        rows = await s.scalars(select(Party).where(Party.case_id == case_id).order_by(Party.id))
        return [(p.role, p.id_type, p.id_number) for p in rows]


@pytest.mark.parametrize(
    ("applicant", "respondent", "field", "problem"),
    [
        ({"id_number": "530102199001011234"}, {}, "applicants.0.id_number", "居民身份证号码校验位错误"),
        ({}, {"id_number": "530102199002291239"}, "respondents.0.id_number", "居民身份证号码出生日期无效"),
        ({"id_number": "53010219900101123"}, {}, "applicants.0.id_number", "居民身份证号码长度不符"),
        ({}, {"id_number": "91350100M000100Y44"}, "respondents.0.id_number", "统一社会信用代码校验位错误"),
        ({"id_type": "hk_macao_permit", "id_number": "A12345678"}, {}, "applicants.0.id_number", "应以H或M开头"),
        ({"id_type": "driving_licence", "id_number": "E12345678"}, {}, "applicants.0.id_type", "取值无效"),
    ],
)
async def test_a_bad_id_number_is_refused_naming_field_and_problem_and_nothing_is_stored(
    api: Api, applicant: dict[str, Any], respondent: dict[str, Any], field: str, problem: str
) -> None:
    before = await _cases(api)
    body = case_body(
        applicants=[{**APPLICANT, **applicant}],
        respondents=[{"name": "云南某某建材有限公司", **respondent}],
    )

    r = await api.as_("registrar", "POST", "/api/cases", json=body)

    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InvalidInput"
    assert f"（{field}）" in r.json()["detail"] and problem in r.json()["detail"]
    assert await _cases(api) == before


async def test_good_numbers_are_stored_normalised_with_their_type(api: Api) -> None:
    body = case_body(
        applicants=[{**APPLICANT, "id_number": "11010519491231002x"}],
        agents=[
            {**APPLICANT, "name": "陈律师", "phone": "13912345679", "id_type": "passport", "id_number": "e1234567 8"}
        ],
        respondents=[
            {"name": "李四", "id_number": "８１００００１９９４０８２３００２１"},  # full-width digits
            {"name": "云南某某建材有限公司", "id_number": "91350100m000100y43"},
            {"name": "王五"},  # no number: no type
        ],
    )

    r = await api.as_("registrar", "POST", "/api/cases", json=body)

    assert r.status_code == 201, r.text
    assert await _parties(api, r.json()["case_id"]) == [
        ("applicant", "resident_id", "11010519491231002X"),
        ("agent", "passport", "E12345678"),
        ("respondent", "residence_permit", "810000199408230021"),
        ("respondent", "credit_code", "91350100M000100Y43"),
        ("respondent", None, None),
    ]
    case = (await api.as_("handler", "GET", f"/api/cases/{r.json()['case_id']}")).json()
    assert [p["id_type"] for p in case["parties"]] == [
        "resident_id",
        "passport",
        "residence_permit",
        "credit_code",
        None,
    ]


async def test_the_same_filing_with_the_x_typed_lower_case_is_the_same_filing(api: Api) -> None:
    body = case_body(applicants=[{**APPLICANT, "id_number": "11010519491231002X"}])
    first = await api.as_("registrar", "POST", "/api/cases", json=body)
    again = await api.as_(
        "registrar",
        "POST",
        "/api/cases",
        json={**body, "applicants": [{**APPLICANT, "id_number": "11010519491231002x"}]},
    )

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["case_id"] == first.json()["case_id"]


async def test_the_console_filing_form_names_the_id_number_problem(api: Api) -> None:
    token = (await api.login("registrar"))["Authorization"].removeprefix("Bearer ")
    body = case_body()
    form = {
        "case_number": body["case_number"],
        "cause": "民间借贷纠纷",
        "amount": "1000",
        "filed_on": body["filed_on"],
        "applicant_name": "张三",
        "applicant_id_number": "530102199001011234",
        "applicant_phone": "13912345678",
        "respondent_name": "云南某某建材有限公司",
        "respondent_id_type": "credit_code",
        "respondent_id_number": "91350100M000100Y43",
    }

    api.http.cookies.set("yg_token", token)  # the console's cookie
    r = await api.http.post("/cases", data=form)

    assert r.status_code == 422
    assert "第1位申请执行人的证件号码：居民身份证号码校验位错误" in r.text  # beside the field and in the summary
    assert await _cases(api) == 0


async def test_the_portal_login_takes_the_number_as_filing_stored_it(api: Api) -> None:
    applicant = {**APPLICANT, "id_number": "11010519491231002X"}
    case = await file_case(api, applicants=[applicant])

    for typed in ("11010519491231002x", " 110105 19491231 002x ", "１１０１０５１９４９１２３１００２ｘ"):
        r = await api.http.post("/api/portal/token", json=case.login(id_number=typed))
        assert r.status_code == 200, (typed, r.text)
    wrong = await api.http.post("/api/portal/token", json=case.login(id_number="110105194912310021"))
    assert wrong.status_code == 401
