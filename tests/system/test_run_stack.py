"""The whole stack as `make run` starts it: scripts/run.sh on free ports and a temporary data folder, driven over
HTTP like a court system (issue 8 item 7), then stopped with Ctrl-C.

Every node type of the catalogue (domain/nodes.py) is recorded with an Idempotency-Key, closure last; each must
answer 201 within 5 s (the bound the issue sets), and each disclosed node's SMS must reach the outbox
(GET /api/sms). A failure names the node types that failed and shows the end of the worker's log (INFO).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.demo import DEMO_PASSWORD
from domain.clock import BEIJING
from domain.nodes import BY_CODE, CATALOGUE, NodeType

REPO = Path(__file__).resolve().parents[2]
RUN_SH = REPO / "scripts" / "run.sh"

NODE_SECONDS = 5.0  # issue 8: every node answers within 5 s
START_SECONDS = 150  # migrate, seed (argon2 per demo user), dev server, worker, API, on a busy machine
SMS_SECONDS = 60
STOP_SECONDS = 60
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Failure)\b.*")
DEMO_USERS = (
    "registrar",
    "handler",
    "clerk",
    "bureau_chief",
    "vice_president",
    "president",
    "discipline",
    "supervisor",
    "admin",
    "handler2",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(line[:300] for line in path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path.name}: not written)"


def problems(path: Path) -> str:
    """The exceptions a log holds (the last line of each traceback) and its warnings, commonest first."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path.name}: not written)"
    counts: Counter[str] = Counter()
    for line in lines:
        if EXCEPTION_LINE.match(line):
            counts[line[:200]] += 1
        elif " WARNING " in line or " ERROR " in line:
            counts[line.split(" ", 2)[-1].split(" ({", 1)[0][:200]] += 1
    return "\n".join(f"{n}x {what}" for what, n in counts.most_common(8)) or "none"


# --- the processes run.sh starts: everything in its session (it is started as a session leader) -----------------


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(session id, start time in ticks, state) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[3]), int(fields[19]), fields[0]


def session_processes(sid: int) -> dict[int, int]:
    """Live processes of a session (zombies excluded), as pid → start time (a reused pid is another process)."""
    out: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (st := _stat(int(d.name))) is not None and st[0] == sid and st[2] != "Z":
            out[int(d.name)] = st[1]
    return out


def alive(processes: dict[int, int]) -> dict[int, str]:
    """Those of ``processes`` still running (same pid, same start time), with their command lines."""
    out: dict[int, str] = {}
    for pid, started in processes.items():
        st = _stat(pid)
        if st is not None and st[1] == started and st[2] != "Z":
            with contextlib.suppress(OSError):
                out[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return out


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    var: Path
    output: Path
    api: str
    seen: dict[int, int] = field(default_factory=dict)  # every process of the stack observed while it ran

    def observe(self) -> None:
        self.seen.update(session_processes(self.proc.pid))

    def logs(self) -> str:
        return (
            f"\n--- run.sh output ---\n{tail(self.output, 15)}"
            f"\n--- worker.log: exceptions and warnings ---\n{problems(self.var / 'worker.log')}"
            f"\n--- worker.log: last lines ---\n{tail(self.var / 'worker.log', 12)}"
            f"\n--- temporal.log ---\n{tail(self.var / 'temporal.log', 15)}"
        )

    def interrupt(self) -> int | None:
        """Ctrl-C: SIGINT to the foreground process group, which is run.sh and everything it started."""
        self.observe()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            return None

    def leftovers(self) -> dict[int, str]:
        """Processes of the stack still running, waited for a moment (a child may exit just after run.sh)."""
        deadline = time.monotonic() + 20
        while True:
            left = alive({**self.seen, **session_processes(self.proc.pid)})
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)

    def kill_leftovers(self) -> None:
        for pid in alive({**self.seen, **session_processes(self.proc.pid)}):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start_stack(var: Path, **settings: str) -> Stack:
    """run.sh as `make run` starts it; ``settings`` are more YG_ variables (YG_ENVIRONMENT=production …)."""
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YG_") and k not in ("TEMPORAL_PORT", "UI_PORT")}
    env.update(
        YG_VAR_DIR=str(var),
        YG_API_PORT=str(api_port),
        TEMPORAL_PORT=str(temporal_port),
        UI_PORT=str(ui_port),
        **settings,
    )
    output = var.parent / "run.sh.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [str(RUN_SH)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the test's Ctrl-C reaches the stack and nothing else
        )
    return Stack(proc, var, output, f"http://127.0.0.1:{api_port}")


def wait_ready(stack: Stack, http: httpx.Client) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            pytest.fail(f"scripts/run.sh exited with {stack.proc.returncode} before the API answered{stack.logs()}")
        with contextlib.suppress(httpx.TransportError):
            if http.get("/api/courts", timeout=5).status_code == 200 and "is running" in stack.output.read_text(
                errors="replace"
            ):
                stack.observe()
                return
        time.sleep(0.5)
    pytest.fail(f"the API did not answer within {START_SECONDS} s{stack.logs()}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    # No demo cases (db/demo_cases.py): their filing in the background would share the machine with the 5 s bound.
    s = start_stack(tmp_path / "var", YG_DEMO_CASES="0")
    try:
        yield s
    finally:
        if s.proc.poll() is None:
            s.interrupt()
        s.kill_leftovers()


# --- request bodies ------------------------------------------------------------------------------------------


def case_body(filed_on: str, year: int) -> dict[str, Any]:
    return {
        "case_number": f"（{year}）云0102执{uuid.uuid4().int % 90000 + 10000}号",
        "court_code": "YN0102",
        "cause": "民间借贷纠纷",
        "amount": "50000.00",
        "filed_on": filed_on,
        "has_property": True,
        "handler": "handler",
        "clerk": "clerk",
        "applicants": [
            {"name": "张三", "id_number": "530102199001012234", "phone": "13907310528", "eservice_consent": True}
        ],
        "respondents": [{"name": "李四", "id_number": "530103198505053234", "address": "昆明市五华区某路1号"}],
    }


def node_body(nt: NodeType, now: datetime) -> dict[str, Any]:
    """A valid record of the type: the fields it requires (domain/nodes.py) in the forms node_rules accepts."""
    body: dict[str, Any] = {
        "type": nt.code,
        "occurred_at": (now - timedelta(minutes=1)).isoformat(),
        "summary": f"系统测试：{nt.name}",
    }
    fields = {
        "scheduled_at": (now + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0).isoformat(),
        "amount": "12,000.50",
        "mode": "执行完毕",
    }
    for name in nt.required:
        body[name] = fields[name]
    if nt.code == "measure_lifted":
        body["measure"] = "exit_restriction"
    if nt.code == "closure":
        body["recovered_amount"] = "50000.00"
    return body


def catalogue_closure_last() -> list[NodeType]:
    return [nt for nt in CATALOGUE if nt.code != "closure"] + [nt for nt in CATALOGUE if nt.code == "closure"]


# --- the test --------------------------------------------------------------------------------------------------


def test_run_sh_serves_every_node_type_and_stops_on_ctrl_c(stack: Stack) -> None:
    with httpx.Client(base_url=stack.api, timeout=60) as http:
        wait_ready(stack, http)

        tokens: dict[str, dict[str, str]] = {}
        for username in DEMO_USERS:
            r = http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, f"demo user {username} cannot log in: {r.status_code} {r.text}"
            tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}

        filed_on = datetime.now(BEIJING).date() - timedelta(days=2)
        r = http.post("/api/cases", json=case_body(filed_on.isoformat(), filed_on.year), headers=tokens["registrar"])
        assert r.status_code == 201, f"filing: {r.status_code} {r.text}{stack.logs()}"
        case_id = r.json()["case_id"]

        recorded: dict[str, str] = {}  # node type → node id
        failures: list[str] = []
        for nt in catalogue_closure_last():
            body = node_body(nt, datetime.now(BEIJING))
            headers = {**tokens["handler"], "Idempotency-Key": f"system-{nt.code}-{uuid.uuid4().hex[:8]}"}
            t0 = time.perf_counter()
            try:
                r = http.post(f"/api/cases/{case_id}/nodes", json=body, headers=headers, timeout=NODE_SECONDS)
            except httpx.TimeoutException:
                failures.append(f"{nt.code} ({nt.name}): no answer within {NODE_SECONDS:.0f} s — the update hung")
                continue
            seconds = time.perf_counter() - t0
            if r.status_code != 201:
                failures.append(f"{nt.code} ({nt.name}): {r.status_code} {r.text[:300]}")
            elif seconds > NODE_SECONDS:
                failures.append(f"{nt.code} ({nt.name}): 201 after {seconds:.1f} s, more than {NODE_SECONDS:.0f} s")
            if r.status_code == 201:
                recorded[nt.code] = r.json()["node_id"]
        stack.observe()
        assert not failures, (
            f"{len(failures)} of {len(CATALOGUE)} node types failed:\n  " + "\n  ".join(failures) + stack.logs()
        )

        # Each disclosed node's SMS reaches the outbox and is sent; undisclosed nodes send nothing.
        disclosed = {code: node_id for code, node_id in recorded.items() if BY_CODE[code].disclosed}
        wanted = {f"node:{node_id}": code for code, node_id in disclosed.items()}
        deadline = time.monotonic() + SMS_SECONDS
        while True:
            r = http.get("/api/sms", params={"case_id": case_id}, headers=tokens["handler"])
            assert r.status_code == 200, r.text
            sent = {m["reason"] for m in r.json() if m["audience"] == "party" and m["status"] == "sent"}
            missing = sorted(code for reason, code in wanted.items() if reason not in sent)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert not missing, f"no SMS sent within {SMS_SECONDS} s for the disclosed nodes: {missing}{stack.logs()}"
        reasons = {m["reason"] for m in r.json()}
        quiet = sorted(
            code for code, node_id in recorded.items() if code not in disclosed and f"node:{node_id}" in reasons
        )
        assert not quiet, f"undisclosed nodes sent an SMS: {quiet}"
        assert "filed" in sent, "the filing SMS was not sent"

        r = http.get(f"/api/cases/{case_id}", headers=tokens["handler"])
        assert r.status_code == 200, r.text
        case = r.json()
        assert case["status"] == "closed"
        assert sorted(n["type"] for n in case["nodes"]) == sorted(recorded)

    # Ctrl-C: run.sh stops everything it started and exits 0 (its trap), leaving no process behind.
    code = stack.interrupt()
    assert code is not None, f"scripts/run.sh still running {STOP_SECONDS} s after Ctrl-C{stack.logs()}"
    assert code == 0, f"scripts/run.sh exited {code} on Ctrl-C{stack.logs()}"
    left = stack.leftovers()
    assert not left, f"still running after Ctrl-C: {left}{stack.logs()}"
    assert len(stack.seen) >= 4, f"expected run.sh, temporal, worker and uvicorn; saw {stack.seen}"


def test_run_sh_in_production_seeds_no_demo_users(tmp_path: Path) -> None:
    """The demo users' password is public: a production stack started by run.sh has none of them (issue 9 item 10)."""
    production = {
        "YG_ENVIRONMENT": "production",
        "YG_SECRET_KEY": secrets.token_urlsafe(32),
        "YG_PAYLOAD_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "YG_SMS_PROVIDER": "twilio",
        "YG_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "YG_TWILIO_AUTH_TOKEN": "unused",
        "YG_TWILIO_FROM": "+15005550006",
        "YG_TWILIO_BASE_URL": "http://127.0.0.1:9",  # nothing is sent: no case is filed
    }
    stack = start_stack(tmp_path / "var", **production)
    try:
        with httpx.Client(base_url=stack.api, timeout=60) as http:
            wait_ready(stack, http)
            for username in ("admin", "registrar"):
                r = http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
                assert r.status_code == 401, f"demo user {username} exists in production: {r.status_code}{stack.logs()}"
        assert "No demo users (YG_ENVIRONMENT=production)" in stack.output.read_text(errors="replace")
        assert stack.interrupt() == 0, stack.logs()
    finally:
        if stack.proc.poll() is None:
            stack.interrupt()
        stack.kill_leftovers()
