"""A remote codec server for the Temporal Web UI and CLI (Temporal's codec server protocol): ``POST /codec/decode``
and ``POST /codec/encode`` take ``{"payloads": [...]}`` (protobuf JSON: metadata values and data in base64) and
answer the payloads run through core/codec.py's codec with the app's payload key.

Only an active administrator may use it: the CLI sends the staff token (``--codec-auth "Bearer <token>"``), the Web
UI either passes a token in ``Authorization`` or, with "include cross-origin credentials", the console's login
cookie. Browsers may call it only from the Temporal UI's origin (``YG_CODEC_CORS_ORIGINS``, default the origin of
``YG_TEMPORAL_UI_URL``); the body must be JSON, so a cross-origin call always asks first (a CORS preflight)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.access import require_role
from api.deps import SessionDep, SettingsDep, oauth2
from api.errors import ERROR_RESPONSES
from api.routes.pages import COOKIE
from api.security import staff_of_token
from core.codec import EncryptionCodec
from core.settings import Settings
from domain.errors import InvalidInput, NotAuthenticated, YgError

router = APIRouter(prefix="/codec", tags=["codec"], responses=ERROR_RESPONSES)

ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
MAX_PAYLOADS = 10_000
MAX_TEXT = 1024  # a metadata value (an encoding name, a key id)

# The body is read by the route itself, after the caller is known (an anonymous caller learns nothing of it).
PAYLOADS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Temporal 编解码协议：payloads 数组，每项含 metadata（值为 base64）与 data（base64）",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["payloads"],
                    "properties": {
                        "payloads": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "metadata": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string", "maxLength": MAX_TEXT},
                                    },
                                    # The whole body is bounded at the edge (YG_MAX_BODY_BYTES, 1 MiB by default).
                                    "data": {"type": "string", "format": "byte", "maxLength": 1024 * 1024},
                                },
                            },
                        }
                    },
                },
                "example": {"payloads": [{"metadata": {"encoding": "YmluYXJ5L3lnLWFlczI1NmdjbQ=="}, "data": "…"}]},
            }
        },
    }
}


def allowed_origins(settings: Settings) -> set[str]:
    """The browser origins that may call the codec: the configured list, else the Temporal UI's own origin."""
    configured = [o.strip().rstrip("/") for o in settings.codec_cors_origins.split(",") if o.strip()]
    if configured:
        return set(configured)
    ui = urlsplit(settings.temporal_ui_url)
    return {f"{ui.scheme}://{ui.netloc}"} if ui.scheme and ui.netloc else set()


def _cors(request: Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin", "")
    if origin and origin in allowed_origins(settings):
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
    return {"Vary": "Origin"}


async def _admin(request: Request, session: SessionDep, settings: SettingsDep, bearer: str | None) -> None:
    """An active administrator, by bearer token (CLI, UI "pass access token") or by the console's cookie (UI with
    cross-origin credentials)."""
    token = bearer or request.cookies.get(COOKIE)
    if not token:
        raise NotAuthenticated("请先以管理员身份登录 (login required)")
    staff = await staff_of_token(session, token, secret=settings.secret_key)
    require_role(staff, "admin")


def _payloads(body: dict[str, Any]) -> list[Payload]:
    items = body.get("payloads")
    if not isinstance(items, list):
        raise InvalidInput('请求须为 {"payloads": [...]} (payloads missing)', kind="InvalidPayloads")
    if len(items) > MAX_PAYLOADS:
        raise InvalidInput(f"一次最多{MAX_PAYLOADS}项 (too many payloads)", kind="InvalidPayloads")
    try:
        return list(json_format.ParseDict({"payloads": items}, Payloads()).payloads)
    except (json_format.ParseError, TypeError, ValueError):
        raise InvalidInput(
            "payloads 格式不正确（metadata 与 data 须为 base64）(malformed payloads)", kind="InvalidPayloads"
        ) from None


def _answer(payloads: list[Payload], headers: dict[str, str]) -> JSONResponse:
    out = json_format.MessageToDict(Payloads(payloads=payloads))
    return JSONResponse({"payloads": out.get("payloads", [])}, headers=headers)


async def _run(request: Request, session: SessionDep, settings: Settings, bearer: str | None, op: str) -> Response:
    headers = _cors(request, settings)
    try:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise InvalidInput("请求内容须为 JSON (Content-Type: application/json)", kind="UnsupportedMediaType")
        await _admin(request, session, settings, bearer)
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise InvalidInput("请求内容无法解析 (invalid JSON)", kind="InvalidPayloads") from None
        if not isinstance(body, dict):
            raise InvalidInput('请求须为 {"payloads": [...]} (payloads missing)', kind="InvalidPayloads")
        payloads = _payloads(body)
        codec = EncryptionCodec(settings.payload_key)
        if op == "encode":
            return _answer(await codec.encode(payloads), headers)
        decoded: list[Payload] = []
        for p in payloads:
            try:
                decoded.extend(await codec.decode([p]))
            except Exception:  # another key, or tampered: shown as it is, the rest still decoded
                decoded.append(p)
        return _answer(decoded, headers)
    except YgError as e:
        return JSONResponse({"error": e.kind, "detail": e.detail}, status_code=e.status, headers=headers)


@router.post("/decode", openapi_extra=PAYLOADS_BODY)
async def decode(
    request: Request, session: SessionDep, settings: SettingsDep, bearer: Annotated[str | None, Depends(oauth2)]
) -> Response:
    """Decrypt payloads for the Temporal Web UI or CLI (administrators); a payload that is not ours, or sealed with
    another key, comes back unchanged."""
    return await _run(request, session, settings, bearer, "decode")


@router.post("/encode", openapi_extra=PAYLOADS_BODY)
async def encode(
    request: Request, session: SessionDep, settings: SettingsDep, bearer: Annotated[str | None, Depends(oauth2)]
) -> Response:
    """Encrypt payloads (what the UI or CLI sends a workflow: a signal's input) the way workers do (administrators)."""
    return await _run(request, session, settings, bearer, "encode")


@router.options("/{operation}", include_in_schema=False)
async def preflight(operation: str, request: Request, settings: SettingsDep) -> Response:
    """The CORS preflight of the Temporal UI's origin; any other origin gets no permission."""
    headers = _cors(request, settings)
    if "Access-Control-Allow-Origin" in headers and operation in ("decode", "encode"):
        headers |= {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        }
    return Response(status_code=204, headers=headers)
