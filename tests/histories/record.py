"""Record the replay histories of tests/histories/ by running scripted cases through the API on a dev server.

    .venv/bin/python -m tests.histories.record                 # re-record every scenario (before a release only)
    .venv/bin/python -m tests.histories.record --tag 0.2.0     # add <scenario>@0.2.0.json next to the old files
    .venv/bin/python -m tests.histories.record --only whole_life

Each step waits until the workflow is quiet (its SMS sent, nothing pending), so a re-recording of an unchanged
workflow has the same events in the same order; only ids, times and the sealed payloads' bytes differ.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import operator
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from api.updates import execute_update
from contracts.case import RECORD_NODE
from core.codec import data_converter
from core.settings import DEV_PAYLOAD_KEY
from db.migrate import upgrade
from domain.clock import BEIJING
from domain.models import CaseState, NodeResult, RecordNodeInput
from tests.api.conftest import Api, running_api
from tests.api.helpers import case_body, eventually
from tests.conftest import TEMPORAL
from workflows import search_attributes

HERE = Path(__file__).parent
log = logging.getLogger("yangguang.histories")


@dataclass
class Case:
    """A case filed through the API, driven step by step until it is quiet."""

    api: Api
    client: Client
    case_id: str
    workflow_id: str

    async def node(self, key: str, type_: str, occurred_at: datetime, **fields: Any) -> dict[str, Any]:
        body = {"type": type_, "occurred_at": occurred_at.isoformat(), "summary": f"{type_} 节点", **fields}
        r = await self.api.as_(
            "handler", "POST", f"/api/cases/{self.case_id}/nodes", json=body, headers={"Idempotency-Key": key}
        )
        if r.status_code not in (200, 201):
            raise RuntimeError(f"node {key} refused: {r.text}")
        await self.quiet()
        result: dict[str, Any] = r.json()
        return result

    async def update_node(self, key: str, type_: str, occurred_at: datetime) -> None:
        """Send a node straight to the workflow's update: a repeated key the API would answer from its database."""
        inp = RecordNodeInput(idempotency_key=key, type=type_, occurred_at=occurred_at, recorded_by="handler")
        handle = self.client.get_workflow_handle(self.workflow_id)
        update_id = f"{self.workflow_id}:{key}:direct"
        await execute_update(handle, RECORD_NODE, inp, id=update_id, result_type=NodeResult, rpc_timeout=timedelta(30))
        await self.quiet()

    async def quiet(self) -> None:
        """Wait until the workflow has sent every SMS it owes and its read model is written."""

        async def pending() -> bool:
            handle = self.client.get_workflow_handle(self.workflow_id)
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return False
            return bool((await handle.query("state", result_type=CaseState)).pending_notices)

        await eventually(pending, lambda p: not p, seconds=30)
        await asyncio.sleep(0.5)  # let the workflow task that follows the last activity complete

    async def run_id(self) -> str:
        return (await self.client.get_workflow_handle(self.workflow_id).describe()).run_id


async def file_case(api: Api, client: Client, *, days_ago: int) -> Case:
    filed_on = (datetime.now(BEIJING) - timedelta(days=days_ago)).date()
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(filed_on=filed_on.isoformat()))
    if r.status_code != 201:
        raise RuntimeError(f"filing refused: {r.text}")
    case = Case(api, client, r.json()["case_id"], r.json()["workflow_id"])
    await case.quiet()
    return case


async def whole_life(api: Api, client: Client) -> Case:
    """Filing, nodes on time and one entered late, a scheduled auction, an undisclosed act, a repeat, closure."""
    case = await file_case(api, client, days_ago=10)
    now = datetime.now(BEIJING).replace(microsecond=0)
    await case.node("notice", "notice_issued", now - timedelta(days=9))  # late: entered 9 days after the act
    await case.node("inquiry", "network_inquiry", now - timedelta(hours=2))
    await case.node("freeze", "freeze", now - timedelta(hours=1))
    await case.update_node("freeze", "freeze", now - timedelta(hours=1))  # the same key again: same node
    await case.node("search", "search", now - timedelta(minutes=50))  # not disclosed: no SMS
    auction_at = (now + timedelta(days=30)).isoformat()
    await case.node("auction", "online_auction", now - timedelta(minutes=40), scheduled_at=auction_at)
    await case.node("end", "closure", now - timedelta(minutes=10), mode="执行完毕", recovered_amount="50000.00")
    await client.get_workflow_handle(case.workflow_id).result()
    return case


async def continued_as_new(api: Api, client: Client) -> Case:
    """Two events per run: the filing's ladder rungs fill the first, then two nodes per run; a repeat, closure."""
    case = await file_case(api, client, days_ago=0)  # filed today: the same rungs fire at every recording
    now = datetime.now(BEIJING).replace(microsecond=0)
    steps = [("n1", "notice_issued"), ("n2", "freeze"), ("n3", "seizure"), ("n4", "fine")]
    for i, (key, type_) in enumerate(steps, 1):
        before = await case.run_id()
        await case.node(key, type_, now)
        if i % 2 == 0:
            await eventually(case.run_id, partial(operator.ne, before), seconds=30)
            await case.quiet()
    await case.update_node("n1", "notice_issued", now)
    await case.node("end", "closure", now, mode="执行完毕", recovered_amount="50000.00")
    await client.get_workflow_handle(case.workflow_id).result()
    return case


Scenario = Callable[[Api, Client], Awaitable[Case]]
# name → (scenario, max events per run)
SCENARIOS: dict[str, tuple[Scenario, int]] = {
    "whole_life": (whole_life, 2000),
    "continued_as_new": (continued_as_new, 2),
}


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow, oldest first."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id or None
    return runs[::-1]


def file_names(name: str, runs: int, tag: str | None) -> list[str]:
    suffix = f"@{tag}" if tag else ""
    if runs == 1:
        return [f"{name}{suffix}.json"]
    return [f"{name}.run{i}{suffix}.json" for i in range(1, runs + 1)]


def describe(history: WorkflowHistory) -> str:
    counts = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_").lower() for e in history.events)
    return f"{len(history.events)} events: " + ", ".join(f"{k}×{v}" for k, v in sorted(counts.items()))


async def record(names: list[str], out: Path, tag: str | None) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(DEV_PAYLOAD_KEY),
        dev_server_existing_path=TEMPORAL,
        search_attributes=search_attributes.ALL,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                scenario, max_events = SCENARIOS[name]
                url = f"sqlite+aiosqlite:///{Path(tmp) / name}.db"
                upgrade(url)
                async for api in running_api(env, url, max_events_per_run=max_events):
                    case = await scenario(api, env.client)
                    runs = await runs_of(env.client, case.workflow_id)
                for file_name, history in zip(file_names(name, len(runs), tag), runs, strict=True):
                    path = out / file_name
                    if tag and path.exists():
                        raise SystemExit(f"{path} exists: histories of a release are never overwritten")
                    path.write_text(history.to_json() + "\n", encoding="utf-8")
                    log.info("%s: %s", path, describe(history))
    finally:
        await env.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="record this scenario only")
    parser.add_argument("--tag", help="release tag: write new files <scenario>@<tag>.json, never overwrite")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: tests/histories)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("temporalio", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    asyncio.run(record(args.only or list(SCENARIOS), args.out, args.tag))


if __name__ == "__main__":
    status = 0
    try:
        main()
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
        if not isinstance(e.code, int) and e.code:
            sys.stderr.write(f"{e.code}\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # the SDK can abort at interpreter exit after a clean run (ARCHITECTURE.md)
