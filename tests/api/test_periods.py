"""Legal periods and holiday schedules over HTTP (API.md → Legal periods; DOMAIN.md → Time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from activities.calendar import raise_alerts
from db.models import CalendarAudit
from tests.api.conftest import Api

UNPUBLISHED = 2027  # the first year chinesecalendar 1.11.0 does not cover

NEW_YEAR_2027: dict[str, Any] = {
    "holidays": [{"day": f"2027-01-0{d}", "name": "元旦"} for d in (1, 2, 3)],
    "workdays": [],
}


async def test_api_example_five_working_days_across_national_day(api: Api) -> None:
    r = await api.as_("handler", "GET", "/api/periods?start=2025-09-30&length=5&unit=working_days")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "start": "2025-09-30",
        "unit": "working_days",
        "length": 5,
        "last_day": "2025-10-14",
        "ends_at": "2025-10-14T23:59:59.999999+08:00",
        "confirmed": True,
    }


async def test_month_period_from_january_31_ends_on_the_last_day_of_february(api: Api) -> None:
    r = await api.as_("clerk", "GET", "/api/periods", params={"start": "2024-01-31", "length": 1, "unit": "months"})
    assert r.status_code == 200, r.text
    assert (r.json()["last_day"], r.json()["confirmed"]) == ("2024-02-29", True)


async def test_period_into_an_unpublished_year_is_unconfirmed(api: Api) -> None:
    r = await api.as_("handler", "GET", "/api/periods", params={"start": "2026-12-30", "length": 2, "unit": "days"})
    assert r.status_code == 200, r.text
    assert (r.json()["last_day"], r.json()["confirmed"]) == ("2027-01-01", False)


async def test_bad_unit_length_or_start_is_422_in_the_error_shape(api: Api) -> None:
    for params in (
        {"start": "2025-09-30", "length": 5, "unit": "weeks"},
        {"start": "2025-09-30", "length": 0, "unit": "days"},
        {"start": "2025-09-30", "length": "five", "unit": "days"},
        {"start": "2025-02-30", "length": 5, "unit": "days"},
        {"length": 5, "unit": "days"},
    ):
        r = await api.as_("handler", "GET", "/api/periods", params=params)
        assert r.status_code == 422, (params, r.text)
        assert set(r.json()) == {"error", "detail"} and r.json()["error"] == "InvalidInput"
    r = await api.as_("handler", "GET", "/api/periods", params={"start": "9999-12-30", "length": 5, "unit": "days"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InvalidPeriod"


async def test_periods_need_a_login(api: Api) -> None:
    r = await api.http.get("/api/periods?start=2025-09-30&length=5&unit=working_days")
    assert r.status_code == 401
    assert r.json()["error"] == "NotAuthenticated"


async def test_published_year_shows_holidays_and_make_up_working_days(api: Api) -> None:
    r = await api.as_("handler", "GET", "/api/calendar/2025")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["source"], body["confirmed"], body["published_last_year"]) == ("published", True, 2026)
    assert {"day": "2025-10-01", "name": "国庆节"} in body["holidays"]
    assert [d["day"] for d in body["workdays"]] == [
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    ]
    unknown = (await api.as_("handler", "GET", f"/api/calendar/{UNPUBLISHED}")).json()
    assert (unknown["source"], unknown["confirmed"], unknown["holidays"]) == ("unknown", False, [])


async def test_only_administrators_enter_schedules_and_see_alerts(api: Api) -> None:
    r = await api.as_("handler", "PUT", f"/api/calendar/{UNPUBLISHED}", json=NEW_YEAR_2027)
    assert r.status_code == 403
    assert r.json()["error"] == "RoleNotAllowed"
    assert (await api.as_("president", "GET", "/api/calendar/alerts")).status_code == 403
    assert (await api.as_("admin", "GET", f"/api/calendar/{UNPUBLISHED}")).json()["source"] == "unknown"


async def test_entered_schedule_confirms_periods_resolves_the_alert_and_is_audited(api: Api) -> None:
    await raise_alerts(api.sessions, [UNPUBLISHED])
    alerts = (await api.as_("admin", "GET", "/api/calendar/alerts")).json()["items"]
    assert [(a["year"], a["open"]) for a in alerts] == [(UNPUBLISHED, True)]
    assert "2027" in alerts[0]["message"]

    r = await api.as_("high_admin", "PUT", f"/api/calendar/{UNPUBLISHED}", json=NEW_YEAR_2027)
    assert r.status_code == 200, r.text
    assert (r.json()["source"], r.json()["confirmed"], r.json()["entered_by"]) == ("entered", True, "high_admin")
    assert [d["day"] for d in r.json()["holidays"]] == ["2027-01-01", "2027-01-02", "2027-01-03"]

    period = await api.as_(
        "handler", "GET", "/api/periods", params={"start": "2026-12-30", "length": 2, "unit": "days"}
    )
    assert (period.json()["last_day"], period.json()["confirmed"]) == ("2027-01-04", True)

    alerts = (await api.as_("admin", "GET", "/api/calendar/alerts")).json()["items"]
    assert [(a["year"], a["open"], a["resolved_by"]) for a in alerts] == [(UNPUBLISHED, False, "high_admin")]

    again = await api.as_("high_admin", "PUT", f"/api/calendar/{UNPUBLISHED}", json=NEW_YEAR_2027)
    assert again.status_code == 200  # the same schedule again changes nothing and audits nothing
    changed = {**NEW_YEAR_2027, "workdays": [{"day": "2027-01-09", "name": "元旦调休"}]}
    assert (await api.as_("high_admin", "PUT", f"/api/calendar/{UNPUBLISHED}", json=changed)).status_code == 200
    audit = (await api.as_("admin", "GET", f"/api/calendar/{UNPUBLISHED}/audit")).json()["items"]
    assert [a["who"] for a in audit] == ["high_admin", "high_admin"]
    assert audit[0]["change"]["source_before"] == "unknown"
    assert len(audit[0]["change"]["added"]) == 3
    assert audit[1]["change"]["added"] == [{"day": "2027-01-09", "kind": "workday", "name": "元旦调休"}]
    assert audit[1]["change"]["removed"] == []
    async with api.sessions() as s:
        assert len((await s.scalars(select(CalendarAudit))).all()) == 2


async def test_bad_schedules_are_refused_with_the_reason(api: Api) -> None:
    cases = [
        ({"holidays": [{"day": "2028-01-01"}]}, "DayOutsideYear"),
        ({"holidays": [{"day": "2027-01-01"}, {"day": "2027-01-01"}]}, "DuplicateDay"),
        ({"holidays": [{"day": "2027-01-01"}], "workdays": [{"day": "2027-01-01"}]}, "DuplicateDay"),
        ({"holidays": [{"day": "2027-01-01"}], "workdays": [{"day": "2027-01-05"}]}, "WorkdayNotWeekend"),
        ({"holidays": []}, "InvalidInput"),
        ({"holidays": [{"day": "2027-02-30"}]}, "InvalidInput"),
    ]
    for body, kind in cases:
        r = await api.as_("high_admin", "PUT", f"/api/calendar/{UNPUBLISHED}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"] == kind, (body, r.text)
    assert (await api.as_("admin", "GET", f"/api/calendar/{UNPUBLISHED}")).json()["source"] == "unknown"


async def test_a_published_year_is_read_only_even_for_the_high_court(api: Api) -> None:
    """A basic court's administrator once cut 2026 to one holiday for every court: published years are read-only."""
    body = {"holidays": [{"day": "2026-01-01", "name": "元旦"}]}
    for user in ("high_admin", "admin", "admin2"):
        r = await api.as_(user, "PUT", "/api/calendar/2026", json=body)
        assert r.status_code == 403, (user, r.text)
    after = (await api.as_("admin", "GET", "/api/calendar/2026")).json()
    assert after["source"] == "published"
    assert {"day": "2026-10-01", "name": "国庆节"} in after["holidays"]
    assert (await api.as_("admin", "GET", "/api/calendar/2026/audit")).json()["items"] == []
