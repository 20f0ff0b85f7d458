"""The workflow history page (API.md → Workflow history) and what Temporal itself may see (decision 6)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.testing import WorkflowEnvironment

from core.codec import ENCODING
from db.models import SmsMessage
from domain.clock import BEIJING
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, now_iso

# Personal data of this file's parties: none of it may reach Temporal unencrypted.
APPLICANT = {"name": "欧阳明月", "id_number": "53010219900101757X", "phone": "13987654321", "eservice_consent": True}
RESPONDENT = {"name": "司马青云", "id_number": "530103198505057577", "address": "昆明市五华区青云路88号"}
SECRETS = [v for v in (*APPLICANT.values(), *RESPONDENT.values()) if isinstance(v, str)]


async def _file(api: Api, **overrides: Any) -> dict[str, Any]:
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert r.status_code == 201, r.text
    filed: dict[str, Any] = r.json()
    return filed


async def _node(api: Api, case_id: str, key: str, **body: Any) -> dict[str, Any]:
    body = {"occurred_at": now_iso(-timedelta(hours=1)), **body}
    r = await api.as_("handler", "POST", f"/api/cases/{case_id}/nodes", json=body, headers={"Idempotency-Key": key})
    assert r.status_code in (200, 201), r.text
    node: dict[str, Any] = r.json()
    return node


async def _sms_sent(api: Api, reason: str) -> None:
    """Wait until the SMS of ``reason`` went out, so the next notice is sent by an activity of its own: notices
    waiting together share one activity, whose summary names only the first three (contracts/activities)."""

    async def statuses() -> list[str]:
        async with api.sessions() as s:
            return list(await s.scalars(select(SmsMessage.status).where(SmsMessage.reason == reason)))

    assert set(await eventually(statuses, lambda found: set(found) == {"sent"})) == {"sent"}, reason


async def _history(api: Api, case_id: str, user: str = "admin", **params: Any) -> dict[str, Any]:
    r = await api.as_(user, "GET", f"/api/cases/{case_id}/history", params=params)
    assert r.status_code == 200, r.text
    history: dict[str, Any] = r.json()
    return history


def _leaks(blob: bytes) -> list[str]:
    """The secrets found in raw bytes, as UTF-8 or as JSON's ASCII escapes."""
    forms = {s: (s.encode(), json.dumps(s).strip('"').encode()) for s in SECRETS}
    return [s for s, encoded in forms.items() if any(e in blob for e in encoded)]


@pytest.mark.parametrize(
    ("user", "status", "kind"),
    [
        ("handler", 403, "RoleNotAllowed"),
        ("registrar", 403, "RoleNotAllowed"),
        ("president", 403, "RoleNotAllowed"),
        ("admin2", 404, "CaseNotFound"),
        (None, 401, "NotAuthenticated"),
    ],
)
async def test_history_is_for_the_courts_admin_only(api: Api, user: str | None, status: int, kind: str) -> None:
    filed = await _file(api)
    url = f"/api/cases/{filed['case_id']}/history"
    r = await (api.as_(user, "GET", url) if user else api.http.get(url))
    assert r.status_code == status, r.text
    assert r.json()["error"] == kind
    assert (await api.as_("admin", "GET", url)).status_code == 200


async def test_history_names_events_in_court_terms(api: Api, dev_env: WorkflowEnvironment) -> None:
    filed = await _file(api, filed_on=(datetime.now(BEIJING).date() - timedelta(days=10)).isoformat())
    case_id = filed["case_id"]
    await _sms_sent(api, "filed")
    notice = await _node(api, case_id, "n1", type="notice_issued", summary="发出执行通知书")
    await _sms_sent(api, f"node:{notice['node_id']}")
    six_days_ago = now_iso(-timedelta(days=6))
    late = await _node(api, case_id, "n2", type="freeze", occurred_at=six_days_ago, summary="冻结存款")
    await _sms_sent(api, f"node:{late['node_id']}")
    await _node(api, case_id, "n2", type="freeze", occurred_at=six_days_ago, summary="冻结存款")  # the same again
    closure = await _node(api, case_id, "n3", type="closure", mode="执行完毕", recovered_amount="50000.00")
    assert (late["late"], notice["late"]) == (True, False)
    assert await dev_env.client.get_workflow_handle(filed["workflow_id"]).result() == "closed"

    history = await _history(api, case_id)
    assert history["workflow_id"] == filed["workflow_id"]
    runs = history["runs"]  # the suite's dev server suggests continue-as-new early: the life may span runs
    assert runs[-1]["run_id"] == (await dev_env.client.get_workflow_handle(filed["workflow_id"]).describe()).run_id
    for run in runs:
        assert [e["event_id"] for e in run["events"]] == sorted(e["event_id"] for e in run["events"])
    assert [run["events"][-1]["kind"] for run in runs[:-1]] == ["workflow_execution_continued_as_new"] * (len(runs) - 1)
    events = [e for run in runs for e in run["events"]]
    kinds = [e["kind"] for e in events]
    said = [e["summary"] for e in events]
    assert kinds[0] == "workflow_execution_started" and said[0].startswith("立案：案件流程启动")
    assert kinds[-1] == "workflow_execution_completed" and said[-1].startswith("案件流程结束")
    assert not [k for k in kinds if k.startswith("workflow_task_")]  # bookkeeping hidden by default
    assert "受理：立案登记 (open case)" in said
    # Update arguments are decrypted: the node's Chinese name, its code and who recorded it.
    accepted = [s for s in said if s.startswith("受理：录入节点：")]
    assert len(accepted) == 3  # the repeat of n2 is answered from the read model, without the workflow
    assert any("发出执行通知书及报告财产令（notice_issued）" in s and "录入人handler" in s for s in accepted)
    assert sum("冻结（freeze）" in s for s in accepted) == 1
    assert any(s.startswith("完成：录入节点：冻结（freeze）") and s.endswith("（逾期录入）") for s in said)
    assert not any(s.startswith("完成：录入节点：发出执行通知书") and "逾期" in s for s in said)
    # Activities by the summary the workflow gave them: the filing SMS and one SMS per disclosed node.
    started = [s for s, k in zip(said, kinds, strict=True) if k == "activity_task_scheduled"]
    assert any(s.startswith("开始：") and "立案短信" in s for s in started)
    written = [s for s, k in zip(said, kinds, strict=True) if k == "marker_recorded"]  # local activities
    for node in (notice, late, closure):
        assert any("节点短信" in s and node["node_id"] in s for s in started), node
        assert any(s.startswith("完成：写入") and "保存节点" in s and node["node_id"] in s for s in written), node
    completed = [s for s, k in zip(said, kinds, strict=True) if k == "activity_task_completed"]
    assert completed and all(s.startswith("完成：") and len(s) > len("完成：") for s in completed)
    assert "workflow_execution_update_completed" in kinds
    assert not [s for s in said if "无法解密" in s]

    with_tasks = await _history(api, case_id, include_tasks="true")
    assert "workflow_task_completed" in [e["kind"] for run in with_tasks["runs"] for e in run["events"]]


async def test_temporal_sees_no_personal_data_and_only_sealed_payloads(api: Api, dev_env: WorkflowEnvironment) -> None:
    filed = await _file(api, applicants=[APPLICANT], respondents=[RESPONDENT])
    case_id, workflow_id = filed["case_id"], filed["workflow_id"]
    # A judge's summary may name the respondent; the summary travels in the update's (sealed) argument.
    await _node(api, case_id, "pii-node", type="freeze", summary=f"冻结被执行人{RESPONDENT['name']}名下银行存款")
    handle = dev_env.client.get_workflow_handle(workflow_id)

    desc = await handle.describe()
    values = {pair.key.name: pair.value for pair in desc.typed_search_attributes}
    assert {k: values.get(k) for k in ("YgCourt", "YgStatus", "YgHandler")} == {
        "YgCourt": "YN0102",
        "YgStatus": "open",
        "YgHandler": "handler",
    }
    info = desc.raw_description.workflow_execution_info
    assert _leaks(info.search_attributes.SerializeToString()) == []
    assert _leaks(info.memo.SerializeToString()) == []
    assert not [v for v in values.values() if any(s in str(v) for s in SECRETS)]

    # The history as the server stores it: every payload sealed, no secret in the bytes.
    raw = b""
    token = b""
    while True:
        page = await dev_env.client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=dev_env.client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id),
                next_page_token=token,
            )
        )
        raw += page.history.SerializeToString()
        token = page.next_page_token
        if not token:
            break
    assert ENCODING in raw
    assert b"pii-node" not in raw and b'"freeze"' not in raw  # the node's own fields are sealed too
    assert _leaks(raw) == []

    # The admin's page decrypts the same history: the sealed update argument reads as a freeze by handler.
    history = await eventually(
        lambda: _history(api, case_id),
        lambda h: any("冻结（freeze）" in e["summary"] for r in h["runs"] for e in r["events"]),
    )
    said = [e["summary"] for r in history["runs"] for e in r["events"]]
    assert any("冻结（freeze）" in s and "录入人handler" in s for s in said)
