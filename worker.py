"""The worker: builds dependencies, registers workflows and activities, runs until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from temporalio.client import Client
from temporalio.worker import (
    FixedSizeSlotSupplier,
    ResourceBasedSlotConfig,
    ResourceBasedSlotSupplier,
    ResourceBasedTunerConfig,
    Worker,
    WorkerTuner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import Deps, build_activities
from activities.sms_providers import build_provider
from core.redaction import RedactActivityFailures, configure_logging
from core.settings import Settings
from core.temporal import connect
from db.engine import make_engine, make_sessions
from workflows import WORKFLOWS

# The sandbox imports a workflow's module afresh for every new workflow run: for CaseWorkflow, each filed case. Its
# imports are passed through already; passing ``workflows`` through as well spares executing the module (the class,
# its handlers' definitions) per case, about 15 ms of the worker's CPU per filing (bench/README.md, runs 17-19). What
# the sandbox would catch at run time (datetime.now, random and the like in workflow code) is caught when the tests
# replay the recorded histories in the default, strict sandbox (tests/workflows/test_replay.py), and by ruff's
# banned-api rules on workflows/ (pyproject.toml). The module keeps no state of its own: constants and the class.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
)


# Workflow tasks and the local activities inside them (a transition's periods and its write) are what a person on a
# page waits for; the ordinary activities are the lanes beside a case's main loop (its notices, its public lists). The
# latter take a slot only while the machine has CPU and memory to spare, and two always: under a burst of filings
# the SMS wait their turn in Temporal's queue instead of taking the cores from the filings (bench/README.md, runs
# 17-19). The SDK's resource-based slot supplier measures the whole machine, which on a county court's one machine
# is the API, Temporal and the database too.
SLOTS = 100  # the SDK's default for each kind
ACTIVITY_SLOTS = ResourceBasedSlotConfig(minimum_slots=2, maximum_slots=SLOTS)
SPARE = ResourceBasedTunerConfig(target_memory_usage=0.9, target_cpu_usage=0.7)


def tuner() -> WorkerTuner:
    return WorkerTuner.create_composite(
        workflow_supplier=FixedSizeSlotSupplier(SLOTS),
        local_activity_supplier=FixedSizeSlotSupplier(SLOTS),
        nexus_supplier=FixedSizeSlotSupplier(SLOTS),
        activity_supplier=ResourceBasedSlotSupplier(ACTIVITY_SLOTS, SPARE),
    )


def build_worker(client: Client, settings: Settings, deps: Deps, *, max_cached_workflows: int = 1000) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(deps, public_base_url=settings.public_base_url),
        # Failure texts go to Temporal's history in clear: no SQL parameters in them (decision 6).
        interceptors=[RedactActivityFailures()],
        max_cached_workflows=max_cached_workflows,
        workflow_runner=WORKFLOW_RUNNER,
        tuner=tuner(),
    )


async def main() -> None:
    configure_logging()  # redacted: no SQL parameters, ID numbers or phone numbers in worker.log (decision 6)
    settings = Settings()
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    deps = Deps(sessions=make_sessions(engine), sms=build_provider(settings))
    worker = build_worker(client, settings, deps)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("yangguang").info("worker polling task queue %s", settings.task_queue)
    async with worker:
        await stop.wait()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the SDK can abort at interpreter exit after a clean run (ARCHITECTURE.md)
