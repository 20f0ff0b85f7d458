"""The edge of the API: what no route may ever see, and the error shape for what no route expected.

A pure ASGI middleware (nothing is buffered) that, before a route runs:

- refuses a body larger than the limit (413) from its ``Content-Length`` before reading a byte of it, and counts
  the bytes of a body sent without one (chunked) as they stream in, so a 200 MB body is never read whole;
- refuses a NUL character, invalid UTF-8 or a lone surrogate in the path or the query string (422): PostgreSQL
  cannot store a NUL, and a string that cannot be encoded fails wherever it is written next;
- refuses a NUL in a form body (urlencoded or multipart) on a path that takes no file.

JSON bodies are checked field by field by the models (``api.schemas.Text``), which name the field.

And, around everything, turns an exception no route handled into the API.md shape: a database that cannot be
reached → 503 ``DatabaseUnavailable``, Temporal → 503 ``TemporalUnavailable``, anything else → 500
``InternalError`` without internals. The exception is logged and not raised further, so the server keeps the
connection open (uvicorn closes it when an application raises after answering).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger("yangguang.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Paths that take file uploads (API.md → Documents and e-service) get the larger limit; every other path the
# body limit, and a NUL in a form body there is refused.
UPLOAD_PATHS = (
    re.compile(r"^(/api)?/cases/[^/]+/documents$"),  # a document staff attach (api/routes/documents.py)
    re.compile(r"^(/api)?/portal/messages$"),  # a party's message with its files (api/routes/messages.py)
)


@dataclass(frozen=True)
class Refusal:
    status: int
    kind: str
    detail: str


class BodyRefused(HTTPException):
    """Raised from ``receive`` while the body streams in; FastAPI passes HTTPExceptions through unchanged, and the
    error handlers (api/errors.py) answer it in the error shape."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.status, refusal.detail)
        self.refusal = refusal


def too_large(limit: int) -> Refusal:
    return Refusal(
        413,
        "PayloadTooLarge",
        f"请求内容过大：不能超过 {_size(limit)} (request body larger than {limit} bytes)",
    )


_FORM_NUL = Refusal(422, "InvalidInput", "输入有误：表单内容含有空字符（\\u0000），请删除后重新提交 (NUL in form)")


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} 字节"


def _bad_text(raw: bytes) -> bool:
    """True if the percent-decoded bytes hold a NUL or are not valid UTF-8 (a lone surrogate is not)."""
    data = unquote_to_bytes(raw)
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def url_refusal(scope: Scope) -> Refusal | None:
    """A NUL, invalid UTF-8 or a lone surrogate in the path or a query parameter, named."""
    path = scope.get("path", "")
    raw_path = scope.get("raw_path") or path.encode("utf-8", "surrogatepass")
    if "\x00" in path or any("\ud800" <= c <= "\udfff" for c in path) or _bad_text(raw_path):
        return Refusal(422, "InvalidInput", "输入有误：请求路径含有空字符或无效字符 (invalid characters in path)")
    query: bytes = scope.get("query_string", b"")
    for pair in query.split(b"&"):
        name, _, value = pair.replace(b"+", b" ").partition(b"=")
        if _bad_text(name) or _bad_text(value):
            shown = unquote_to_bytes(name).decode("utf-8", "replace").replace("\x00", "")[:40] or "?"
            return Refusal(
                422,
                "InvalidInput",
                f"输入有误：查询参数“{shown}”含有空字符或无效字符 (invalid characters in query parameter {shown!r})",
            )
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value).split(b";")[0].strip().lower()
    return b""


async def send_refusal(send: Send, refusal: Refusal, *, close: bool = False) -> None:
    body = json.dumps({"error": refusal.kind, "detail": refusal.detail}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        # The rest of the body is not read: tell the client this connection ends with the answer.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def unexpected(e: BaseException) -> Refusal:
    """The answer to an exception no route handled: outages are 503 (retry later), bugs are 500."""
    if isinstance(e, sa_exc.DBAPIError | sa_exc.TimeoutError) and (
        isinstance(e, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError)
        or getattr(e, "connection_invalidated", False)
    ):
        return Refusal(503, "DatabaseUnavailable", "数据库暂不可用，请稍后重试 (database unavailable)")
    if isinstance(e, RPCError) and e.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return Refusal(503, "TemporalUnavailable", "流程服务暂不可用，请稍后重试 (Temporal unavailable)")
    return Refusal(500, "InternalError", "服务器内部错误，已记录，请稍后重试或联系管理员 (internal error)")


class Edge:
    """See the module's docstring. ``max_body`` and ``max_upload`` in bytes (core/settings.py)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = url_refusal(scope)
        if refusal is not None:
            await send_refusal(send, refusal)
            return
        upload = any(p.match(scope.get("path", "")) for p in UPLOAD_PATHS)
        limit = self.max_upload if upload else self.max_body
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await send_refusal(send, too_large(limit), close=True)
            return
        kind = _content_type(scope)
        scan = b"" if upload else _FORM_MARKERS.get(kind, b"")
        received = 0
        tail = b""
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyRefused(too_large(limit))
                if scan:
                    window = tail + chunk
                    if b"\x00" in window or (scan == b"%00" and b"%00" in window):
                        raise BodyRefused(_FORM_NUL)
                    tail = window[-2:]
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, watched_send)
        except BodyRefused as e:
            if started:
                raise
            await send_refusal(send, e.refusal, close=e.refusal.status == 413)
        except Exception as e:
            answer = unexpected(e)
            # The exception's type and where it was raised, never its text: a database error's text holds the
            # statement's parameters (names, ID numbers, phones).
            cause = getattr(e, "orig", None) or e.__cause__
            log.error(
                "unhandled %s%s on %s %s, answered %s\n%s",
                type(e).__name__,
                f" ({type(cause).__name__})" if cause is not None else "",
                scope.get("method"),
                scope.get("path"),
                answer.status,
                "".join(traceback.format_tb(e.__traceback__)) if answer.status == 500 else "",
            )
            if started:
                raise
            await send_refusal(send, answer)


# What a NUL looks like in a form body: urlencoded as %00 (or raw), in a multipart part as the byte itself.
_FORM_MARKERS = {b"application/x-www-form-urlencoded": b"%00", b"multipart/form-data": b"\x00"}
