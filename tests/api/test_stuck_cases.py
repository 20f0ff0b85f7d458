"""A case stuck on an activity that keeps failing shows as stuck, not as simply waiting (issue 8, defect 7):
GET /api/admin/stuck-cases lists it for the admins of its court, and its history names the pending activity,
its attempts and the kind of its last failure, without the personal data the failure carried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure

from api.history import failure_text
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso
from tests.api.stuck import LEAKED_ID, LEAKED_NAME, FailingPublisher, filing_announced, restart_worker

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def _get(api: Api, user: str, url: str) -> Any:
    r = await api.as_(user, "GET", url)
    assert r.status_code == 200, r.text
    return r.json()


def _no_personal_data(text: str) -> None:
    for secret in (LEAKED_ID, LEAKED_NAME, "[parameters", "INSERT", "VALUES"):
        assert secret not in text, text


async def _stuck_case(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, FailingPublisher]:
    """A filed case whose dishonest listing cannot be published: the workflow retries it for ever."""
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body())
    assert r.status_code == 201, r.text
    case_id, case_number = r.json()["case_id"], r.json()["case_number"]
    # The filing's notices go out first: a worker restarted under them would leave that activity retrying too.
    await eventually(
        lambda: _get(api, "handler", f"/api/sms?case_id={case_id}"),
        lambda ms: any(m["reason"] == "filed" and m["status"] == "sent" for m in ms),
    )
    await eventually(lambda: filing_announced(api.worker, case_id), bool)
    publisher = FailingPublisher(api, {"dishonest"})
    await restart_worker(api, publisher)
    monkeypatch.setattr("api.updates.UPDATE_DEADLINE", timedelta(seconds=2))
    body = {"type": "dishonest_listing", "occurred_at": now_iso(-timedelta(hours=1)), "summary": "纳入失信名单"}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=body, headers={"Idempotency-Key": "k"})
    assert r.status_code == 503, r.text
    await eventually(lambda: _attempts(publisher), lambda n: n >= 2, seconds=20)
    return case_id, case_number, publisher


async def _attempts(publisher: FailingPublisher) -> int:
    return publisher.attempts


@sqlite_only
async def test_a_case_whose_activity_keeps_failing_is_listed_as_stuck_for_its_courts_admins(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, case_number, _ = await _stuck_case(api, monkeypatch)

    listing = await eventually(
        lambda: _get(api, "admin", "/api/admin/stuck-cases"),
        lambda out: any(i["case_id"] == case_id and i["failure_kind"] == "OperationalError" for i in out["items"]),
        seconds=20,
    )

    assert listing["complete"] is True
    # Other activities the worker's restart interrupted may be retrying beside it (failure kind WorkerShutdown).
    [item] = [i for i in listing["items"] if i["case_id"] == case_id and i["activity"] == "apply_node_to_public_lists"]
    assert item["case_number"] == case_number
    assert item["court_code"] == "YN0102"
    assert item["activity"] == "apply_node_to_public_lists"
    assert item["attempt"] > 1
    assert item["failure_kind"] == "OperationalError"
    assert "invalid input value" in item["last_failure"]
    _no_personal_data(str(item))
    assert item["since"] and item["next_attempt_at"]
    # Another court's admin does not see it; a non-admin may not list at all.
    other = await _get(api, "admin2", "/api/admin/stuck-cases")
    assert all(i["case_id"] != case_id for i in other["items"])
    r = await api.as_("handler", "GET", "/api/admin/stuck-cases")
    assert r.status_code == 403, r.text

    await restart_worker(api, None)  # the publisher is repaired: the retry succeeds, the case is no longer stuck
    cleared = await eventually(
        lambda: _get(api, "admin", "/api/admin/stuck-cases"),
        lambda out: all(i["case_id"] != case_id for i in out["items"]),
        seconds=60,
    )
    assert all(i["case_id"] != case_id for i in cleared["items"])


@sqlite_only
async def test_the_history_of_a_stuck_case_shows_the_failing_activity_not_a_plain_wait(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, _, _ = await _stuck_case(api, monkeypatch)

    history = await eventually(
        lambda: _get(api, "admin", f"/api/cases/{case_id}/history"),
        lambda h: any(p["attempt"] > 1 for p in h["pending"]),
        seconds=20,
    )

    [pending] = [p for p in history["pending"] if p["activity"] == "apply_node_to_public_lists"]
    assert pending["attempt"] > 1
    assert pending["failure_kind"] == "OperationalError"
    assert pending["summary"].startswith("公开名单")
    _no_personal_data(str(history["pending"]))
    scheduled = [e for run in history["runs"] for e in run["events"] if e["kind"] == "activity_task_scheduled"]
    assert scheduled  # the events are there as before; pending is added beside them
    await restart_worker(api, None)


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "(builtins.Exception) invalid input value '李四' for id_number 530103198505051234\n"
            "[SQL: INSERT INTO parties VALUES (?, ?)]\n[parameters: ('李四', '530103198505051234')]",
            "(builtins.Exception) invalid input value … for id_number …",
        ),
        (
            '(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "uq_parties" '
            "DETAIL:  Key (id_number)=(530103198505051234) already exists.",
            "(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint …",
        ),
        ("短信发送失败：号码 138-0013-8000 无效", "短信发送失败：号码 … 无效"),
        ("case 0d5a2d53-7531-4bfc-bbbb-1e2d1a56d006 not in the read model", None),
        ("公开名单仍显示本案：失信 (masking not confirmed)", None),
    ],
)
def test_a_failure_is_shown_as_its_kind_and_first_line_without_parameters(message: str, shown: str | None) -> None:
    failure = Failure(message=message, application_failure_info=ApplicationFailureInfo(type="OperationalError"))
    assert failure_text(failure) == ("OperationalError", shown or message)
