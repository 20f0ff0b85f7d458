"""Recorded histories replay on the current CaseWorkflow: a change that would break running cases fails here.

The histories are recorded by ``python -m tests.histories.record`` (see tests/histories/README.md).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from core.codec import data_converter
from core.settings import DEV_PAYLOAD_KEY
from domain.models import CaseInput, Notice
from workflows import WORKFLOWS
from workflows.case import CaseWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def replayer(*workflows: type) -> Replayer:
    """In the default, strict sandbox, which imports workflows/ afresh and refuses non-deterministic calls: the worker
    passes workflows/ through it for speed (worker.WORKFLOW_RUNNER), so this is where they are caught at run time."""
    return Replayer(
        workflows=list(workflows) or WORKFLOWS,
        data_converter=data_converter(DEV_PAYLOAD_KEY),
        workflow_runner=SandboxedWorkflowRunner(),
    )


@pytest.mark.parametrize("path", HISTORIES, ids=[p.name for p in HISTORIES])
async def test_recorded_history_replays_on_the_current_workflow(path: Path) -> None:
    result = await replayer().replay_workflow(load(path))
    assert result.replay_failure is None


async def _update_results(history: WorkflowHistory) -> list[Any]:
    """The decrypted results of the history's completed updates."""
    converter = data_converter(DEV_PAYLOAD_KEY)
    out = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            outcome = e.workflow_execution_update_completed_event_attributes.outcome
            if outcome.HasField("success"):
                out.extend(await converter.decode(outcome.success.payloads))
    return out


async def test_whole_life_history_covers_filing_late_node_repeat_and_closure() -> None:
    """Guard the recording itself: a re-recorded scenario that lost a step would replay but prove less."""
    history = load(Path(__file__).parent.parent / "histories" / "whole_life.json")
    types = [e.event_type for e in history.events]
    assert types[0] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    assert types[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    updates = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert updates[0] == "open_case" and updates.count("record_node") >= 6
    nodes = [r for r in await _update_results(history) if isinstance(r, dict) and "node_id" in r]
    assert any(r["late"] for r in nodes) and any(not r["late"] for r in nodes)
    repeats = [r for r in nodes if r["created"] is False]
    assert len(repeats) == 1 and sum(r["node_id"] == repeats[0]["node_id"] for r in nodes) == 2


def test_continue_as_new_histories_chain_run_to_run() -> None:
    runs = [load(p) for p in HISTORIES if p.name.startswith("continued_as_new.run")]
    assert len(runs) >= 3
    for earlier, later in itertools.pairwise(runs):
        assert earlier.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        started = later.events[0].workflow_execution_started_event_attributes
        assert started.continued_execution_run_id == earlier.run_id
    assert runs[-1].events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class SilentCaseWorkflow(CaseWorkflow):
    """CaseWorkflow as if someone dropped the SMS activity: its old histories must no longer replay."""

    @workflow.run
    async def run(self, inp: CaseInput) -> str:
        return await super().run(inp)

    def _notify(self, notice: Notice) -> None:
        return None


async def test_a_changed_workflow_fails_to_replay_the_recorded_history() -> None:
    result = await replayer(SilentCaseWorkflow).replay_workflow(
        load(Path(__file__).parent.parent / "histories" / "whole_life.json"), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
