"""The worker: builds dependencies, registers workflows and activities, runs until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from activities import Deps, build_activities
from activities.sms_providers import build_provider
from core.redaction import RedactActivityFailures, configure_logging
from core.settings import Settings
from core.temporal import connect
from db.engine import make_engine, make_sessions
from workflows import WORKFLOWS


def build_worker(client: Client, settings: Settings, deps: Deps, *, max_cached_workflows: int = 1000) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(deps, public_base_url=settings.public_base_url),
        # Failure texts go to Temporal's history in clear: no SQL parameters in them (decision 6).
        interceptors=[RedactActivityFailures()],
        max_cached_workflows=max_cached_workflows,
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
