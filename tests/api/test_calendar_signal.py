"""Entering or changing a holiday schedule (a high court's administrator, for a year not yet published) tells every
case whose deadlines touch that year (DOMAIN.md → Time): they recompute them, and those computed on weekends alone
become confirmed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from contracts.case import CALENDAR_CHANGED
from db import queries
from db.models import CalendarAudit, ObligationRow
from domain.calendar import PUBLISHED_LAST_YEAR
from domain.clock import BEIJING
from domain.models import CalendarChangedInput
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso


async def _file(api: Api, **overrides: Any) -> dict[str, Any]:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    filed: dict[str, Any] = r.json()
    return filed


async def _obligations(api: Api, case_id: str) -> list[dict[str, Any]]:
    r = await api.as_("handler", "GET", f"/api/cases/{case_id}")
    assert r.status_code == 200, r.text
    obligations: list[dict[str, Any]] = r.json()["obligations"]
    return obligations


async def _signals(env: WorkflowEnvironment, workflow_id: str) -> list[tuple[str, int | None]]:
    """The signals the case received over every run (the dev server suggests continue-as-new early here), each with
    the year it names."""
    found: list[tuple[str, int | None]] = []
    async for run in env.client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        history = await env.client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        for e in history.events:
            if e.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                continue
            attrs = e.workflow_execution_signaled_event_attributes
            args = await env.client.data_converter.decode(attrs.input.payloads, [CalendarChangedInput])
            found.append((attrs.signal_name, args[0].year if args else None))
    return found


async def _quiet(api: Api, case_id: str) -> None:
    """Wait until the workflow fired the rungs already due at filing: it writes no obligation row for weeks."""
    now = datetime.now(BEIJING)

    def fired(obs: list[dict[str, Any]]) -> bool:
        return all("remind_open" in o["rungs_fired"] for o in obs if datetime.fromisoformat(o["opened_at"]) <= now)

    assert fired(await eventually(lambda: _obligations(api, case_id), fired))


def _due_day(ob: dict[str, Any]) -> date:
    return datetime.fromisoformat(ob["due_at"]).astimezone(BEIJING).date()


async def _without_open_obligations(api: Api, case_id: str) -> None:
    """Wait until a closed case has nothing open left (its lists masked): no deadline of it depends on a calendar."""
    obs = await eventually(lambda: _obligations(api, case_id), lambda obs: all(o["status"] != "open" for o in obs))
    assert all(o["status"] != "open" for o in obs), obs


async def test_an_entered_schedule_signals_every_case_whose_deadlines_touch_the_year(
    api: Api, dev_env: WorkflowEnvironment
) -> None:
    """Not only deadlines computed on weekends alone: a confirmed one whose period touches the year may move too."""
    unconfirmed = await _file(api)
    obligations = await _obligations(api, unconfirmed["case_id"])
    term = next(o for o in obligations if o["rule"] == "term-6m")
    year = _due_day(term).year
    if year <= PUBLISHED_LAST_YEAR or term["confirmed"]:
        pytest.skip(f"the term ends in {year}, a year with a published schedule: nothing to confirm")

    # An open case whose deadlines are all confirmed (made so in the read model) but run into the year: signalled.
    # A closed case with nothing open, and an open case whose workflow is gone: not signalled, and the gone one does
    # not fail the request.
    confirmed = await _file(api)
    await _quiet(api, confirmed["case_id"])
    async with api.sessions() as s:
        await s.execute(
            update(ObligationRow).where(ObligationRow.case_id == confirmed["case_id"]).values(confirmed=True)
        )
        await s.commit()
    closed = await _file(api)
    closure = {"type": "closure", "occurred_at": now_iso(-timedelta(minutes=1)), "mode": "执行完毕"}
    r = await api.as_("handler", "POST", f"/api/cases/{closed['case_id']}/nodes", json=closure)
    assert r.status_code == 201, r.text
    await _without_open_obligations(api, closed["case_id"])
    gone = await _file(api)
    await dev_env.client.get_workflow_handle(gone["workflow_id"]).terminate(reason="test: workflow gone")

    async with api.sessions() as s:
        selected = set(await queries.workflows_depending_on_year(s, year=year))
        later = set(await queries.workflows_depending_on_year(s, year=year + 1))
    assert selected == {unconfirmed["workflow_id"], confirmed["workflow_id"], gone["workflow_id"]}
    assert not later & {unconfirmed["workflow_id"], confirmed["workflow_id"]}

    # A schedule for a later year than any of their deadlines does not concern them.
    later_year = {"holidays": [{"day": f"{year + 1}-01-01", "name": "元旦"}]}
    r = await api.as_("high_admin", "PUT", f"/api/calendar/{year + 1}", json=later_year)
    assert r.status_code == 200, r.text
    assert await _signals(dev_env, unconfirmed["workflow_id"]) == []

    # The term's last day declared a holiday: it moves to the next working day, now confirmed.
    last_day = _due_day(term)
    schedule = {"holidays": [{"day": last_day.isoformat(), "name": "测试假日"}]}
    r = await api.as_("high_admin", "PUT", f"/api/calendar/{year}", json=schedule)
    assert r.status_code == 200, r.text

    def recomputed(obs: list[dict[str, Any]]) -> bool:
        return all(o["confirmed"] for o in obs if o["status"] == "open" and _due_day(o).year <= year)

    after = await eventually(lambda: _obligations(api, unconfirmed["case_id"]), recomputed, seconds=20)
    assert recomputed(after), after
    new_term = next(o for o in after if o["rule"] == "term-6m")
    assert new_term["confirmed"] is True
    assert _due_day(new_term) > last_day
    filed_on = (await api.as_("handler", "GET", f"/api/cases/{unconfirmed['case_id']}")).json()["filed_on"]
    params = {"start": filed_on, "length": 6, "unit": "months"}
    period = (await api.as_("handler", "GET", "/api/periods", params=params)).json()
    assert period["confirmed"] is True
    assert datetime.fromisoformat(new_term["due_at"]) == datetime.fromisoformat(period["ends_at"])

    assert await _signals(dev_env, unconfirmed["workflow_id"]) == [(CALENDAR_CHANGED, year)]
    assert await _signals(dev_env, confirmed["workflow_id"]) == [(CALENDAR_CHANGED, year)]
    assert await _signals(dev_env, closed["workflow_id"]) == []
    assert await _signals(dev_env, gone["workflow_id"]) == []

    # The confirmed case recomputed its term too: the holiday moved its last day as well.
    moved = await eventually(
        lambda: _obligations(api, confirmed["case_id"]),
        lambda obs: _due_day(next(o for o in obs if o["rule"] == "term-6m")) != last_day,
        seconds=20,
    )
    assert _due_day(next(o for o in moved if o["rule"] == "term-6m")) > last_day


async def test_schedule_with_no_open_case_signals_nothing(api: Api) -> None:
    r = await api.as_("high_admin", "PUT", "/api/calendar/2027", json={"holidays": [{"day": "2027-01-01"}]})
    assert r.status_code == 200, r.text


async def test_only_a_high_court_administrator_enters_a_schedule_and_published_years_are_read_only(
    api: Api,
) -> None:
    """A basic court's administrator cannot move every court's deadlines; nobody rewrites a published year."""
    body = {"holidays": [{"day": f"{PUBLISHED_LAST_YEAR + 1}-01-01", "name": "元旦"}]}
    for user in ("admin2", "admin", "president"):
        r = await api.as_(user, "PUT", f"/api/calendar/{PUBLISHED_LAST_YEAR + 1}", json=body)
        assert r.status_code == 403, (user, r.text)
        assert set(r.json()) == {"error", "detail"}
    r = await api.as_("admin2", "PUT", f"/api/calendar/{PUBLISHED_LAST_YEAR + 1}", json=body)
    assert r.json()["error"] == "CourtNotAllowed" and "高级人民法院" in r.json()["detail"]

    published = {"holidays": [{"day": f"{PUBLISHED_LAST_YEAR}-01-01", "name": "元旦"}]}
    for user in ("high_admin", "admin2"):
        r = await api.as_(user, "PUT", f"/api/calendar/{PUBLISHED_LAST_YEAR}", json=published)
        assert r.status_code == 403, (user, r.text)
    r = await api.as_("high_admin", "PUT", f"/api/calendar/{PUBLISHED_LAST_YEAR}", json=published)
    assert r.json()["error"] == "ScheduleReadOnly"
    r = await api.as_("high_admin", "PUT", "/api/calendar/2003", json={"holidays": [{"day": "2003-01-01"}]})
    assert (r.status_code, r.json()["error"]) == (403, "ScheduleReadOnly")

    # Nothing changed, nothing audited.
    after = (await api.as_("admin2", "GET", f"/api/calendar/{PUBLISHED_LAST_YEAR}")).json()
    assert after["source"] == "published" and len(after["holidays"]) > 1
    assert (await api.as_("admin2", "GET", f"/api/calendar/{PUBLISHED_LAST_YEAR + 1}")).json()["source"] == "unknown"
    async with api.sessions() as s:
        assert (await s.scalars(select(CalendarAudit))).all() == []

    r = await api.as_("high_admin", "PUT", f"/api/calendar/{PUBLISHED_LAST_YEAR + 1}", json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["source"], r.json()["entered_by"]) == ("entered", "high_admin")
