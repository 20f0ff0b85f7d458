"""A public-list publisher that keeps failing, to leave a case's workflow stuck on a retrying activity."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from activities import Deps
from activities.public_lists import LocalPublisher
from domain.public_lists import PublicEntry
from tests.api.conftest import Api
from tests.conftest import RunningWorker

# What a driver error carries: the statement and its parameters, personal data included.
LEAKED_ID = "530103198505051234"
LEAKED_NAME = "李四"


class FailingPublisher:
    """Fails every publication to the lists in ``failing``, as a database error with its parameters would."""

    def __init__(self, api: Api, failing: set[str]) -> None:
        self.failing = failing
        self.attempts = 0
        self._local = LocalPublisher(api.sessions)

    async def publish(self, entry: PublicEntry) -> None:
        if entry.list in self.failing:
            self.attempts += 1
            raise OperationalError(
                "INSERT INTO outside_list (name, id_number) VALUES (?, ?)",
                (LEAKED_NAME, LEAKED_ID),
                Exception(f"invalid input value '{LEAKED_NAME}' for id_number {LEAKED_ID}"),
            )

    async def lift(self, entry: PublicEntry) -> None:
        return None

    async def mask(self, entry: PublicEntry) -> None:
        return None

    async def confirm(self, case_id: str) -> list[str]:
        return await self._local.confirm(case_id)


async def restart_worker(api: Api, publisher: FailingPublisher | None) -> None:
    """The same worker on the same task queue, now publishing through ``publisher`` (None: the local lists)."""
    await api.worker.stop()
    api.worker.deps = Deps(api.sessions, api.worker.deps.sms, publisher)
    await api.worker.start()


async def filing_announced(worker: RunningWorker, case_id: str) -> bool:
    """The case's workflow runs no activity: its filing's notices (SMS, listing) are done, so a worker restarted
    now leaves nothing of the filing retrying."""
    described = await worker.client.get_workflow_handle(f"case-{case_id}").describe()
    return not described.raw_description.pending_activities
