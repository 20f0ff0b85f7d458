"""Every request that runs a workflow update answers within the deadline (api/updates.py), even when the update
was accepted and then waits behind an activity that keeps failing: 503, and the same key retried acts once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Case, Node
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso
from tests.api.stuck import FailingPublisher, restart_worker

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
DEADLINE = timedelta(seconds=2)
FILING_DEADLINE = timedelta(seconds=10)
# Well past the deadline, well short of "hung": the old code polled for the outcome for ever.
BOUND = 15.0


async def _timed(api: Api, user: str, method: str, url: str, **kw: Any) -> tuple[httpx.Response, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    r = await asyncio.wait_for(api.as_(user, method, url, **kw), BOUND)
    return r, loop.time() - start


async def _until_done(api: Api, url: str, body: dict[str, Any], key: str) -> httpx.Response:
    """Retry with the same key, as a caller told 503 does, until the workflow has answered."""
    for _ in range(40):
        r, _ = await _timed(api, "handler", "POST", url, json=body, headers={"Idempotency-Key": key})
        if r.status_code != 503:
            return r
        await asyncio.sleep(0.5)
    raise AssertionError("the update never completed")


async def _count(api: Api, model: Any, **where: Any) -> int:
    async with api.sessions() as s:
        q = select(func.count()).select_from(model).filter_by(**where)
        return int(await s.scalar(q) or 0)


@sqlite_only
async def test_node_accepted_but_stuck_on_a_failing_activity_answers_503_in_time(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body())
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", DEADLINE)
    publisher = FailingPublisher(api, {"dishonest"})
    await restart_worker(api, publisher)
    url = f"/api/cases/{case_id}/nodes"
    body = {"type": "dishonest_listing", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "纳入失信名单"}

    r, took = await _timed(api, "handler", "POST", url, json=body, headers={"Idempotency-Key": "stuck"})

    assert r.status_code == 503, r.text
    assert r.json()["error"] == "TemporalUnavailable"
    assert "Idempotency-Key" in r.json()["detail"]
    assert took < DEADLINE.total_seconds() + 3
    assert publisher.attempts >= 1  # the update was accepted: its activity ran and failed

    await restart_worker(api, None)
    done = await _until_done(api, url, body, "stuck")
    assert done.status_code in (200, 201), done.text
    assert await _count(api, Node, case_id=case_id) == 1


@sqlite_only
async def test_a_filing_whose_public_listing_keeps_failing_answers_at_once_and_is_listed_later(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filing answers once the case is open in the read model; its listing as unfinished follows beside it.

    A listing that held the filing up would keep it waiting for ever, so any deadline tells the two apart; this one
    leaves a filing on a busy machine (CI's two cores, the suite's workers) time to answer."""
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", FILING_DEADLINE)
    publisher = FailingPublisher(api, {"unfinished-cases"})
    await restart_worker(api, publisher)
    body = case_body()

    r, took = await _timed(api, "registrar", "POST", "/api/cases", json=body)

    assert r.status_code == 201, r.text
    assert took < FILING_DEADLINE.total_seconds()
    case_id = r.json()["case_id"]
    assert await _status(api, case_id) == "open"
    await eventually(lambda: _attempts(publisher), lambda n: n >= 1)

    await restart_worker(api, None)
    listed = await eventually(
        lambda: api.http.get("/api/public/unfinished-cases"),
        lambda r: any(i["case_number"] == body["case_number"] for i in r.json()["items"]),
        seconds=30,
    )
    assert listed.status_code == 200
    assert await _count(api, Case, case_number=body["case_number"]) == 1


async def _attempts(publisher: FailingPublisher) -> int:
    return publisher.attempts


async def _status(api: Api, case_id: str) -> str | None:
    async with api.sessions() as s:
        return await s.scalar(select(Case.status).where(Case.id == case_id))
