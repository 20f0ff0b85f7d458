"""The codec endpoint for the Temporal Web UI and CLI (Temporal's remote codec protocol): an administrator reads the
payloads core/codec.py sealed; anyone else is refused, and browsers only from the Temporal UI's origin."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from core.codec import ENCODING, EncryptionCodec
from core.settings import DEV_PAYLOAD_KEY
from tests.api.conftest import Api
from tests.api.helpers import case_body, serve
from tests.conftest import TEMPORAL

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
UI = "http://127.0.0.1:8233"  # the default YG_TEMPORAL_UI_URL
SECRET = {"name": "欧阳明月", "phone": "13987654321"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _wire(p: Payload) -> dict[str, Any]:
    """A payload as the Web UI sends it: protobuf JSON, metadata values and data in base64."""
    return {"metadata": {k: _b64(v) for k, v in p.metadata.items()}, "data": _b64(p.data)}


async def _sealed() -> Payload:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(SECRET, ensure_ascii=False).encode())
    [sealed] = await EncryptionCodec(DEV_PAYLOAD_KEY).encode([plain])
    return sealed


@sqlite_only
async def test_an_admin_reads_a_payload_sealed_by_the_workers_codec(api: Api) -> None:
    sealed = await _sealed()
    assert SECRET["name"].encode() not in sealed.data
    r = await api.as_("admin", "POST", "/codec/decode", json={"payloads": [_wire(sealed)]})
    assert r.status_code == 200, r.text
    [out] = r.json()["payloads"]
    assert base64.b64decode(out["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(out["data"])) == SECRET


@sqlite_only
async def test_encode_then_decode_gives_back_the_payload_and_workers_can_open_it(api: Api) -> None:
    plain = {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(b'"\xe7\xbb\x88\xe6\x9c\xac"')}
    r = await api.as_("high_admin", "POST", "/codec/encode", json={"payloads": [plain]})
    assert r.status_code == 200, r.text
    [sealed] = r.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    # what the endpoint sealed, the workers' codec opens
    wire = Payload(
        metadata={k: base64.b64decode(v) for k, v in sealed["metadata"].items()}, data=base64.b64decode(sealed["data"])
    )
    [opened] = await EncryptionCodec(DEV_PAYLOAD_KEY).decode([wire])
    assert opened.data.decode() == '"终本"'
    back = await api.as_("high_admin", "POST", "/codec/decode", json={"payloads": [sealed]})
    assert back.json()["payloads"] == [plain]


@sqlite_only
async def test_a_payload_not_ours_comes_back_unchanged_beside_the_decoded_ones(api: Api) -> None:
    foreign = {
        "metadata": {"encoding": _b64(b"binary/yg-aes256gcm"), "yg-key-id": _b64(b"000000000000")},
        "data": "AAAA",
    }
    plain = {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(b"1")}
    r = await api.as_("admin", "POST", "/codec/decode", json={"payloads": [foreign, _wire(await _sealed()), plain]})
    assert r.status_code == 200, r.text
    out = r.json()["payloads"]
    assert out[0] == foreign and out[2] == plain
    assert json.loads(base64.b64decode(out[1]["data"])) == SECRET


@sqlite_only
@pytest.mark.parametrize("user", ["handler", "president", "supervisor", "registrar2"])
async def test_staff_other_than_admins_are_refused_and_read_nothing(api: Api, user: str) -> None:
    r = await api.as_(user, "POST", "/codec/decode", json={"payloads": [_wire(await _sealed())]})
    assert r.status_code == 403
    assert r.json()["error"] == "RoleNotAllowed"
    assert SECRET["name"] not in r.text


@sqlite_only
async def test_without_a_login_or_with_a_bad_token_the_answer_is_401(api: Api) -> None:
    body = {"payloads": [_wire(await _sealed())]}
    assert (await api.http.post("/codec/decode", json=body)).status_code == 401
    bad = await api.http.post("/codec/decode", json=body, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "InvalidToken"


@sqlite_only
async def test_the_console_login_cookie_works_for_the_web_ui_with_credentials(api: Api) -> None:
    """The Web UI's "include cross-origin credentials" sends the console's cookie, not a header."""
    login = await api.http.post("/login", data={"username": "admin", "password": "demo-password", "next": "/"})
    assert login.status_code == 303
    r = await api.http.post("/codec/decode", json={"payloads": [_wire(await _sealed())]}, headers={"Origin": UI})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == UI
    assert r.headers["access-control-allow-credentials"] == "true"


@sqlite_only
async def test_the_ui_origin_passes_the_preflight_and_another_origin_does_not(api: Api) -> None:
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    ok = await api.http.options("/codec/decode", headers={"Origin": UI, **asked})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    assert "POST" in ok.headers["access-control-allow-methods"]
    evil = await api.http.options("/codec/decode", headers={"Origin": "https://evil.example", **asked})
    assert "access-control-allow-origin" not in evil.headers
    # even an admin's request from another origin gets no CORS permission, so the browser hides the answer
    r = await api.as_(
        "admin", "POST", "/codec/decode", json={"payloads": []}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in r.headers


@sqlite_only
async def test_bad_bodies_are_a_clear_4xx(api: Api) -> None:
    headers = await api.login("admin")
    r = await api.http.post("/codec/decode", json={"items": []}, headers=headers)
    assert r.status_code == 422 and r.json()["error"] == "InvalidPayloads"
    r = await api.http.post(
        "/codec/decode", json={"payloads": [{"metadata": ["encoding"], "data": 12}]}, headers=headers
    )
    assert r.status_code == 422 and "base64" in r.json()["detail"]
    r = await api.http.post(
        "/codec/decode", content=b'{"payloads": []}', headers={**headers, "Content-Type": "text/plain"}
    )
    assert r.status_code == 422 and r.json()["error"] == "UnsupportedMediaType"


@sqlite_only
async def test_the_temporal_cli_reads_a_case_history_decoded_through_the_endpoint(
    api: Api, dev_env: WorkflowEnvironment
) -> None:
    """The real `temporal` CLI with --codec-endpoint and --codec-auth: the filing's input, sealed in the history, is
    shown in clear (the protocol as Temporal's own client speaks it); without the token it is not."""
    r = await api.as_("registrar", "POST", "/api/cases", json=case_body())
    assert r.status_code == 201, r.text
    workflow_id, number = f"case-{r.json()['case_id']}", r.json()["case_number"]
    token = (await api.login("admin"))["Authorization"]
    target = dev_env.client.service_client.config.target_host

    async def show(*codec: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            TEMPORAL, "workflow", "show", "-w", workflow_id, "--address", target, "-o", "json", *codec,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return out.decode() + err.decode()

    async with serve(api.app) as port:
        endpoint = f"http://127.0.0.1:{port}/codec"
        decoded = await show("--codec-endpoint", endpoint, "--codec-auth", token)
        refused = await show("--codec-endpoint", endpoint)
    started = json.loads(decoded)["events"][0]["workflowExecutionStartedEventAttributes"]
    [case_input] = started["input"]["payloads"]
    assert base64.b64decode(case_input["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(case_input["data"]))["case_number"] == number
    assert _b64(ENCODING) not in decoded  # every payload of the history was opened
    assert _b64(ENCODING) in refused or refused.startswith("Error")  # without the token: sealed, or nothing shown
    assert number not in refused
