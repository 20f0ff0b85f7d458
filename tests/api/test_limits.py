"""Input that breaks things (issue 9 items 6-8): bodies are bounded before they are read, every text is bounded
and clean (no NUL, no lone surrogate) in bodies, forms, paths and queries, and every 5xx has the error shape."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI, Request
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.security import issue_token
from db.migrate import upgrade
from db.models import Staff
from tests.api.conftest import Api
from tests.api.helpers import case_body, serve
from tests.api.test_errors import _file, _node, _rows, _state, assert_error, sqlite_only
from tests.conftest import make_settings

JSON = {"content-type": "application/json"}
MiB = 1024 * 1024


def raw(body: dict[str, Any]) -> bytes:
    """JSON as a client may send it: NUL and lone surrogates as \\u escapes (ensure_ascii), which httpx's own
    encoder refuses to produce."""
    return json.dumps(body).encode("ascii")


class Counted:
    """A request body streamed in chunks, counting what the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"x" * self.chunk


PERSONAL = ("张三", "530102199001012234", "13800138000")


def _test_routes(app: FastAPI) -> None:
    """A route that fails as a bug would (its message holds personal data), and one telling the client's port."""

    async def boom() -> None:
        raise RuntimeError(" ".join(PERSONAL))

    async def port(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    app.add_api_route("/test/boom", boom)
    app.add_api_route("/test/port", port)


# ------------------------------------------------------------------------------------------ 6. body size


@sqlite_only
async def test_a_declared_oversized_body_is_refused_before_a_byte_is_read(api: Api) -> None:
    """An unauthenticated 200 MB body to /api/portal/token was read whole (issue 9 item 6)."""
    body = Counted(8 * MiB)
    r = await api.http.post("/api/portal/token", content=body, headers={**JSON, "content-length": str(200 * MiB)})
    assert_error(r, 413, "PayloadTooLarge", "1 MiB")
    assert body.pulled == 0


@sqlite_only
async def test_a_chunked_oversized_body_stops_being_read_at_the_limit(api: Api) -> None:
    body = Counted(8 * MiB)
    r = await api.http.post("/api/portal/token", content=body, headers=JSON)
    assert_error(r, 413, "PayloadTooLarge")
    assert body.pulled <= MiB + body.chunk


@sqlite_only
async def test_an_oversized_filing_is_413_and_files_nothing(api: Api) -> None:
    """A 100 MB filing was accepted; past the limit (2 MB here) nothing is stored and no workflow starts."""
    before = await _rows(api)
    body = case_body(respondents=[{"name": "李四", "address": "某" * 256} for _ in range(3000)])
    r = await api.as_("registrar", "POST", "/api/cases", content=raw(body), headers=JSON)
    assert_error(r, 413, "PayloadTooLarge")
    assert await _rows(api) == before


async def test_a_real_server_answers_413_on_the_headers_alone(api: Api) -> None:
    """Over TCP: the answer comes while the 200 MB are still unsent, and says the connection ends."""
    async with serve(api.app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /api/portal/token HTTP/1.1\r\nHost: yg.test\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {200 * MiB}\r\n\r\n".encode()
            )
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(4096), 10)
        finally:
            writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"] == "PayloadTooLarge"


def _string_schemas(schema: dict[str, Any], components: dict[str, Any], where: str) -> list[tuple[str, Any]]:
    """Every string in a JSON schema, with its path."""
    if "$ref" in schema:
        return _string_schemas(components[schema["$ref"].rsplit("/", 1)[1]], components, where)
    found: list[tuple[str, Any]] = []
    options = schema.get("anyOf", []) + schema.get("allOf", [])
    if any(o.get("type") == "number" for o in options):
        return found  # a Decimal, as a number or its text: bounded by its max_digits
    for option in options:
        found += _string_schemas(option, components, where)
    if schema.get("type") == "string" and schema.get("format") not in ("date", "date-time", "binary"):
        found.append((where, schema))
    for name, prop in schema.get("properties", {}).items():
        found += _string_schemas(prop, components, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        found += _string_schemas(schema["items"], components, f"{where}[]")
    return found


@sqlite_only
async def test_every_text_a_request_brings_in_has_a_maximum_length(api: Api) -> None:
    """Body properties and query parameters of every operation of the OpenAPI document."""
    spec = api.app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            strings: list[tuple[str, Any]] = []
            for media in op.get("requestBody", {}).get("content", {}).values():
                strings += _string_schemas(media["schema"], components, f"{method.upper()} {path} body")
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    strings += _string_schemas(param["schema"], components, f"{method.upper()} {path} ?{param['name']}")
            # An enum or a pattern (a decimal amount, bounded by its digits) is bounded by what it admits; an uploaded
            # file by the upload routes' body limit at the edge (api/edge.py) and the file store's size limit.
            unbounded += [
                where
                for where, s in strings
                if not {"maxLength", "enum", "pattern"} & set(s)
                and s.get("format") != "binary"
                and "contentMediaType" not in s
            ]
    assert unbounded == []


NODE_TOO_BIG = [
    pytest.param({"summary": "冻" * 2001}, "摘要", id="summary"),
    pytest.param({"type": "f" * 33}, "节点类型", id="type"),
    pytest.param({"place": "某" * 501}, "place", id="field-value"),
    pytest.param({"p" * 65: "x"}, "节点字段名", id="field-name"),
    pytest.param({f"f{i}": "x" for i in range(21)}, "20", id="field-count"),
]


@pytest.mark.parametrize(("change", "named"), NODE_TOO_BIG)
@sqlite_only
async def test_an_oversized_node_text_is_422_naming_it_and_reaches_no_history(
    api: Api, dev_env: WorkflowEnvironment, change: dict[str, Any], named: str
) -> None:
    """A 1.5 MB node field went into the workflow history, a 2.5 MB one answered 503 "retry"."""
    filed = await _file(api)
    r = await api.as_("handler", "POST", f"/api/cases/{filed['case_id']}/nodes", json=_node(**change))
    assert_error(r, 422, "InvalidInput", named)
    state = await _state(dev_env, filed["workflow_id"])
    assert (state.node_count, state.processed) == (0, {})
    history = await dev_env.client.get_workflow_handle(filed["workflow_id"]).fetch_history()
    assert history.to_json_dict()["events"] and len(history.to_json()) < 200_000


FILING_TOO_BIG = [
    pytest.param({"cause": "借" * 129}, "案由", id="cause"),
    pytest.param({"case_number": "（2026）云0102执" + "1" * 60 + "号"}, "案号", id="case-number"),
    pytest.param({"court_code": "Y" * 33}, "法院代码", id="court-code"),
    pytest.param({"handler": "h" * 65}, "承办人", id="handler"),
    pytest.param({"respondents": [{"name": "李" * 129}]}, "姓名或名称", id="party-name"),
    pytest.param({"respondents": [{"name": "李四", "address": "路" * 257}]}, "地址", id="address"),
]


@pytest.mark.parametrize(("overrides", "named"), FILING_TOO_BIG)
@sqlite_only
async def test_an_oversized_filing_text_is_422_naming_it(api: Api, overrides: dict[str, Any], named: str) -> None:
    before = await _rows(api)
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body(**overrides))
    assert_error(r, 422, "InvalidInput", named)
    assert await _rows(api) == before


@sqlite_only
async def test_oversized_feedback_extension_and_zhongben_texts_are_422_naming_them(api: Api) -> None:
    filed = await _file(api)
    url = f"/api/cases/{filed['case_id']}"
    too_long = {
        "/feedback": ({"measures": "冻" * 5001}, "已采取的执行措施"),
        "/extensions": ({"months": 1, "reason": "理" * 2001}, "理由"),
        "/zhongben-requests": ({"reason": "理" * 2001}, "理由"),
    }
    for path, (body, named) in too_long.items():
        r = await api.as_("handler", "POST", url + path, json=body, headers={"Idempotency-Key": path})
        assert_error(r, 422, "InvalidInput", named)


# ------------------------------------------------------------------------- 7. NUL and lone surrogates


def _json(method: str, url: str, body: dict[str, Any], user: str | None = "registrar") -> Any:
    return (user, method, url, {"content": raw(body), "headers": JSON})


def _filing(**overrides: Any) -> Any:
    return _json("POST", "/api/cases", case_body(**overrides))


def _node_with(**change: Any) -> Any:
    return _json("POST", "/api/cases/{case_id}/nodes", _node(**change), user="handler")


PORTAL = {"case_number": "（2026）云0102执1号", "id_number": "530102199001012234", "phone": "13800138000"}
BROKEN = [
    pytest.param(_filing(cause="民间\u0000借贷"), id="cause-nul"),
    pytest.param(_filing(applicants=[{"name": "张\u0000三", "phone": "13800138000"}]), id="party-name-nul"),
    pytest.param(_filing(respondents=[{"name": "李\ud800四"}]), id="party-name-surrogate"),
    pytest.param(_filing(case_number="（2026）云0102执\u00001号"), id="case-number-nul"),
    pytest.param(_filing(case_number="（2026）云0102执\udc001号"), id="case-number-surrogate"),
    pytest.param(_filing(handler="hand\u0000ler"), id="handler-nul"),
    pytest.param(_filing(court_code="YN\u00000102"), id="court-code-nul"),
    pytest.param(_node_with(summary="冻结\u0000存款"), id="node-summary-nul"),
    pytest.param(_node_with(type="fre\ud800eze"), id="node-type-surrogate"),
    pytest.param(_node_with(type="free\u0000ze"), id="node-type-nul"),
    pytest.param(_node_with(place="某\u0000地"), id="node-field-nul"),
    pytest.param(_node_with(**{"pl\u0000ace": "某地"}), id="node-field-name-nul"),
    pytest.param(_node_with(place="某\udfff地"), id="node-field-surrogate"),
    pytest.param(
        _json("POST", "/api/cases/{case_id}/feedback", {"measures": "\u0000"}, user="handler"), id="feedback-nul"
    ),
    pytest.param(
        _json("POST", "/api/portal/token", {**PORTAL, "query_code": "12\u000034"}, user=None), id="portal-login-nul"
    ),
    pytest.param(
        _json("POST", "/api/portal/token", {**PORTAL, "query_code": "12\ud83d"}, user=None),
        id="portal-login-surrogate",
    ),
    pytest.param(
        (None, "POST", "/api/auth/token", {"data": {"username": "ad\x00min", "password": "x"}}), id="username"
    ),
    pytest.param(
        (None, "POST", "/api/auth/token", {"files": {"username": (None, "ad\x00min"), "password": (None, "x")}}),
        id="username-multipart",
    ),
    pytest.param((None, "POST", "/login", {"data": {"username": "ad\x00min", "password": "x"}}), id="console-login"),
    pytest.param(("handler", "GET", "/api/cases/%00", {}), id="path-nul"),
    pytest.param(("handler", "GET", "/api/cases/%ED%A0%80", {}), id="path-surrogate"),
    pytest.param(("handler", "GET", "/api/cases/%FF", {}), id="path-invalid-utf8"),
    pytest.param((None, "GET", "/api/public/dishonest?court=%00", {}), id="query-court-nul"),
    pytest.param((None, "GET", "/api/public/dishonest?court=YN%ED%B0%80", {}), id="query-court-surrogate"),
    pytest.param(("handler", "GET", "/api/sms?case_id=%00", {}), id="sms-case-nul"),
    pytest.param((None, "GET", "/login?next=/%00", {}), id="console-query-nul"),
]


@pytest.mark.parametrize("request_", BROKEN)
async def test_nul_and_lone_surrogates_are_refused_at_the_edge(
    api: Api, dev_env: WorkflowEnvironment, request_: Any
) -> None:
    """On PostgreSQL a NUL in a node summary wedged the case; in a cause, a name, a case number, a username or
    ?court= it was a 500, a lone surrogate in a node type too (issue 9 item 7). Now a 422 and nothing stored,
    and the case takes its next node."""
    user, method, url, kw = request_
    filed = await _file(api)
    before = await _rows(api)
    url = url.replace("{case_id}", filed["case_id"])
    kw = {**kw, "headers": {**kw.get("headers", {}), "Idempotency-Key": "broken"}}
    r = await (api.as_(user, method, url, **kw) if user else api.http.request(method, url, **kw))
    assert_error(r, 422, "InvalidInput")
    assert "\x00" not in r.text
    assert await _rows(api) == before
    good = await api.as_("handler", "POST", f"/api/cases/{filed['case_id']}/nodes", json=_node())
    assert good.status_code == 201, good.text
    assert (await _state(dev_env, filed["workflow_id"])).node_count == 1


@sqlite_only
async def test_an_offset_past_64_bits_is_422(api: Api) -> None:
    for query in ("offset=9223372036854775808", "offset=-1", "limit=9223372036854775808", "offset=1e400"):
        r = await api.http.get(f"/api/public/dishonest?{query}")
        assert_error(r, 422, "InvalidInput", query.split("=")[0])


# --------------------------------------------------------------------------------------- 8. every 5xx


@sqlite_only
async def test_an_unexpected_exception_is_a_500_in_the_shape_and_logs_no_personal_data(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    _test_routes(api.app)
    with caplog.at_level(logging.ERROR, logger="yangguang.api"):
        r = await api.http.get("/test/boom")
    assert_error(r, 500, "InternalError", "服务器内部错误")
    assert "张三" not in r.text and "RuntimeError" not in r.text and "Traceback" not in r.text
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "RuntimeError" in logged and "boom" in logged
    assert not any(p in logged for p in PERSONAL)


async def test_the_connection_stays_open_after_a_500(api: Api) -> None:
    """uvicorn closed the connection when the app raised after answering; now the same connection goes on."""
    _test_routes(api.app)
    async with serve(api.app) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        first = (await http.get("/test/port")).json()["port"]
        assert_error(await http.get("/test/boom"), 500, "InternalError")
        assert_error(await http.get("/api/cases/%00"), 422, "InvalidInput")
        assert (await http.get("/test/port")).json()["port"] == first


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _outage_answers(app: FastAPI) -> list[httpx.Response]:
    token = issue_token(
        Staff(username="handler", role="handler", login_epoch=0), secret=app.state.settings.secret_key, minutes=5
    )
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://yg.test") as http:
        return [
            await http.get("/api/courts"),
            await http.get("/api/public/dishonest"),
            await http.post("/api/auth/token", data={"username": "handler", "password": "demo-password"}),
            await http.post("/api/portal/token", json={**PORTAL, "query_code": "123456"}),
            await http.get("/api/cases/some-case", headers=bearer),
            await http.get("/api/supervision", headers=bearer),
        ]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_database_that_cannot_be_reached_answers_503(
    dev_env: WorkflowEnvironment, tmp_path: Any, engine: str
) -> None:
    url = (
        f"sqlite+aiosqlite:///{tmp_path}/no-such-folder/yg.db"
        if engine == "sqlite"
        else f"postgresql+psycopg://yg@127.0.0.1:{_closed_port()}/yangguang"
    )
    app = create_app(make_settings(database_url=url), temporal=dev_env.client)
    async with app.router.lifespan_context(app):
        for r in await _outage_answers(app):
            assert_error(r, 503, "DatabaseUnavailable", "数据库")


@pytest.mark.postgres
async def test_a_database_gone_while_running_answers_503(dev_env: WorkflowEnvironment, postgres: Any) -> None:
    """PostgreSQL's connections cut under a running API (its pooled connections die): 503, not a 500."""
    url = postgres.new_database("outage")
    upgrade(url)
    app = create_app(make_settings(database_url=url), temporal=dev_env.client)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://yg.test") as http:
            assert (await http.get("/api/public/dishonest")).status_code == 200
        with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as admin:
            admin.execute("DROP DATABASE outage WITH (FORCE)")
        for r in await _outage_answers(app):
            assert_error(r, 503, "DatabaseUnavailable", "数据库")
