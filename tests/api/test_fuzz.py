"""The proof of issue 9 (input that breaks things): schemathesis over the whole OpenAPI document, with a staff
token of the role each path is for and a party token for /api/portal/*, against the API on a real uvicorn server
with a real worker, on SQLite and PostgreSQL: no response is a 5xx and every error has the API.md shape.

Bounded and deterministic: a few examples per operation and generation mode (``EXAMPLES``), Hypothesis
derandomized (a seed derived from the test, no example database). Each operation is fuzzed twice per mode: with
generated path parameters, and with the id of a real case in its court, so bodies reach the guard and the
workflow's updates. Figures: bench/README.md → Robustness.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from sqlalchemy import select

from api.portal_auth import issue_party_token
from api.security import issue_token
from db.models import Party, Staff
from domain.clock import BEIJING
from tests.api.conftest import Api
from tests.api.helpers import case_body, eventually, serve

log = logging.getLogger(__name__)

EXAMPLES = 25  # per operation, mode and kind of path parameters: ~1,700 requests, about a minute per database
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def role_for(path: str) -> str:
    """The staff role an operation is meant for, so fuzzed input passes the access check and reaches deeper."""
    if path.startswith("/api/admin") or path.endswith("/history") or path.startswith("/api/calendar"):
        return "admin"
    if "/information" in path:  # a court's information page: its administrator writes it
        return "admin"
    if path.startswith("/codec/"):  # the Temporal UI's codec server: administrators
        return "admin"
    if path.endswith("/decision"):
        return "president" if "/extensions/" in path else "bureau_chief"
    if path.endswith("/assignment"):
        return "bureau_chief"
    if path in ("/api/cases",) or path.endswith("/restore"):
        return "registrar"
    if path == "/api/supervision":
        return "bureau_chief"
    return "handler"


@dataclass
class Findings:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    bad_shapes: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    no_negative: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, label: str, response: Any, *, refused: bool = False) -> None:
        """``refused``: the request carries a value no field admits, so it must answer a 4xx."""
        status = int(response.status_code)
        problem = None
        if refused and status < 400:
            problem = f"{label} → {status}: accepted"
        elif status >= 500:
            problem = f"{label} → {status} {response.text[:300]}"
        elif status >= 400 and not _error_shape(response):
            problem = f"{label} → {status} not in the error shape: {response.text[:300]}"
        with self.lock:
            self.requests += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if problem:
                (self.server_errors if status >= 500 else self.accepted if status < 400 else self.bad_shapes).append(
                    problem
                )
        assert problem is None, problem


@dataclass
class Dropped:
    """The server closed or reset the connection instead of answering: as bad as a 5xx (issue 9 item 8)."""

    error: str
    status_code: int = 599

    @property
    def text(self) -> str:
        return f"connection dropped: {self.error}"


def _send(request: Callable[[], Any]) -> Any:
    try:
        return request()
    except requests.ConnectionError as e:
        return Dropped(str(e)[:200])


def _error_shape(response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and set(body) == {"error", "detail"}
        and all(isinstance(body[k], str) and body[k] for k in ("error", "detail"))
    )


def _fuzz_one(strategy: Any, call: Any, examples: int = EXAMPLES) -> Any:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        call(case)

    return one


def fuzz(base_url: str, spec: dict[str, Any], token: Callable[[str], str], case_id: str) -> Findings:
    """Every operation of the document, in a thread (the server runs in the test's event loop)."""
    schema = schemathesis.openapi.from_dict(spec)
    found = Findings()
    http = requests.Session()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        path, method = operation.path, operation.method.upper()
        # A token of its own for each operation: a fuzzed logout ends only the token it was sent with.
        headers = {"Authorization": f"Bearer {token('party' if path.startswith('/api/portal/') else role_for(path))}"}
        variants: list[dict[str, Any]] = [{}]
        if "{case_id}" in path:
            variants.append({"case_id": case_id})
        for mode in MODES:
            for fixed in variants:
                label = f"{method} {path} [{mode.value}{', real case' if fixed else ''}]"
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

                one = _fuzz_one(
                    strategy,
                    lambda case, label=label, headers=headers: found.record(
                        label, _send(lambda: case.call(base_url=base_url, session=http, headers=headers, timeout=60))
                    ),
                )
                try:
                    one()
                except Unsatisfiable:
                    found.no_negative.append(label)  # nothing to make invalid: no parameters, no body
                except AssertionError:
                    pass  # recorded in found; Hypothesis has shrunk it to the smallest failing example
                except Exception as e:  # the fuzzer could not build or send a request: the document is at fault
                    found.crashed.append(f"{label}: {type(e).__name__}: {str(e)[:300]}")
    return found


# Values that broke things (issue 9 items 6, 7): a NUL (PostgreSQL stores none), a lone surrogate (no UTF-8 for it;
# JSON bodies only, a URL cannot carry one), a text far past any field's limit, an integer past 64 bits.
HOSTILE_TEXTS = ("a\x00b", "\ud800", "长" * 20_000)
HOSTILE_INT = 2**63


def valid_bodies(case_number: str, phone: str) -> dict[str, Any]:
    """Bodies that pass validation, so a hostile value in one of their fields reaches the guard, the workflow and
    the database: what generated bodies rarely do (a node needs a catalogue type, a login a real case)."""
    now = (datetime.now(BEIJING) - timedelta(hours=1)).isoformat()
    return {
        "POST /api/cases": case_body(),
        "POST /api/cases/{case_id}/restore": case_body(),
        "POST /api/cases/{case_id}/nodes": {"type": "freeze", "occurred_at": now, "summary": "冻结", "place": "昆明"},
        "POST /api/cases/{case_id}/feedback": {"measures": "已冻结", "next_steps": "扣划", "applicant_tasks": "无"},
        "POST /api/cases/{case_id}/extensions": {"months": 1, "reason": "财产处置需要时间"},
        "POST /api/cases/{case_id}/zhongben-requests": {"reason": "被执行人确无财产"},
        "POST /api/cases/{case_id}/assignment": {"handler": "handler", "clerk": "clerk"},
        "POST /api/portal/token": {
            "case_number": case_number,
            "id_number": "530102199001012234",
            "phone": phone,
            "query_code": "123456",
        },
        "POST /api/auth/token": {"username": "handler", "password": "demo-password"},
        "PUT /api/calendar/{year}": {"holidays": [{"day": "2031-01-01", "name": "元旦"}], "workdays": []},
        "POST /api/portal/messages": {"kind": "message", "text": "请问案件进展"},
        "POST /api/cases/{case_id}/messages/{message_id}/reply": {"text": "已收到"},
    }


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def hostile(
    base_url: str, spec: dict[str, Any], token: Callable[[str], str], case_id: str, valid: dict[str, Any]
) -> Findings:
    """Every text and integer of every operation, one at a time, set to each hostile value: a 4xx in the shape."""
    schema = schemathesis.openapi.from_dict(spec)
    found = Findings()
    http = requests.Session()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        path, method = operation.path, operation.method.upper()
        fixed = {"case_id": case_id} if "{case_id}" in path else None
        bases: list[Any] = []
        _fuzz_one(operation.as_strategy(path_parameters=fixed), bases.append, examples=1)()
        kwargs = bases[0].as_transport_kwargs(base_url=base_url)
        kwargs["headers"]["Authorization"] = (
            f"Bearer {token('party' if path.startswith('/api/portal/') else role_for(path))}"
        )
        body_key = "json" if "json" in kwargs else "data" if "data" in kwargs else None
        if body_key and f"{method} {path}" in valid:
            kwargs[body_key] = valid[f"{method} {path}"]
        # Every query parameter the operation declares (a generated case may leave the optional ones out).
        kwargs["params"] = dict(kwargs.get("params") or {})
        for param in spec["paths"][path][method.lower()].get("parameters", []):
            if param["in"] == "query" and param["name"] not in kwargs["params"]:
                kinds = {o.get("type") for o in [param["schema"], *param["schema"].get("anyOf", [])]}
                if kinds & {"integer", "string"}:
                    kwargs["params"][param["name"]] = 1 if "integer" in kinds else "x"
        places = [("params", leaf) for leaf in _leaves(kwargs["params"])]
        if body_key:
            places += [(body_key, leaf) for leaf in _leaves(kwargs[body_key])]
        for where, (leaf, value) in places:
            if isinstance(value, bool) or not isinstance(value, str | int):
                continue
            news: tuple[Any, ...] = (HOSTILE_INT,) if isinstance(value, int) else HOSTILE_TEXTS
            for new in news:
                if new == "\ud800" and where != "json":
                    continue
                sent = {**kwargs, where: _replaced(kwargs[where], leaf, new)}
                if where == "json":  # as ASCII, so the lone surrogate travels as its \u escape
                    sent["data"] = json.dumps(sent.pop("json")).encode()
                label = f"{method} {path} {where}.{'.'.join(map(str, leaf))}={str(new)[:8]!r}"
                with contextlib.suppress(AssertionError):
                    found.record(label, _send(functools.partial(http.request, timeout=60, **sent)), refused=True)
    return found


@pytest.mark.timeout(600)
async def test_fuzzing_every_operation_finds_no_5xx_and_every_error_in_the_shape(api: Api) -> None:
    filed_body = case_body()
    filed = await api.as_("registrar", "POST", "/api/cases", json=filed_body)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]

    async def applicant() -> Party | None:
        """The applicant, once the filing SMS has given it its query code (hashed on the party)."""
        async with api.sessions() as s:
            found = await s.scalars(select(Party).where(Party.case_id == case_id, Party.role == "applicant"))
            party = found.one()
            return party if party.query_code_hash else None

    party_row = await eventually(applicant, lambda p: p is not None, seconds=30)
    assert party_row is not None
    party = issue_party_token(party_row, secret=api.settings.secret_key)
    mine = await api.http.get("/api/portal/case", headers={"Authorization": f"Bearer {party}"})
    assert mine.status_code == 200, mine.text

    def token(role: str) -> str:
        """Demo users are named by their role (db/demo.py)."""
        if role == "party":
            return party
        return issue_token(Staff(username=role, role=role, login_epoch=0), secret=api.settings.secret_key, minutes=60)

    spec = api.app.openapi()
    valid = valid_bodies(filed_body["case_number"], filed_body["applicants"][0]["phone"])
    started = time.monotonic()
    async with serve(api.app) as port:
        base_url = f"http://127.0.0.1:{port}"
        found = await asyncio.to_thread(fuzz, base_url, spec, token, case_id)
        fuzzed = time.monotonic() - started
        odd = await asyncio.to_thread(hostile, base_url, spec, token, case_id, valid)
    engine = api.settings.database_url.split("+")[0].split(":")[0]
    summary = {
        "generated": {
            "requests": found.requests,
            "seconds": round(fuzzed, 1),
            "by_status": dict(sorted(found.by_status.items())),
        },
        "hostile": {
            "requests": odd.requests,
            "seconds": round(time.monotonic() - started - fuzzed, 1),
            "by_status": dict(sorted(odd.by_status.items())),
        },
        "5xx": len(found.server_errors) + len(odd.server_errors),
        "bad_shape": len(found.bad_shapes) + len(odd.bad_shapes),
        "accepted_hostile": len(odd.accepted),
    }
    log.info("fuzz %s: %s", engine, json.dumps(summary))
    print(f"\nfuzz {engine}: {json.dumps(summary)}")
    assert found.crashed == [], "\n".join(found.crashed)
    for problems in (found.server_errors, odd.server_errors, found.bad_shapes, odd.bad_shapes, odd.accepted):
        assert problems == [], "\n".join(problems)
    assert found.requests > 1000 and odd.requests > 100
