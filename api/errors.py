"""The one HTTP error shape of API.md: {"error": "<Kind>", "detail": "…"}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from domain.errors import TooManyAttempts, YgError


class ErrorBody(BaseModel):
    error: str
    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (401, "Not logged in / 未登录"),
        (403, "Not allowed / 无权操作"),
        (404, "Not found / 不存在"),
        (409, "Conflict, e.g. a closed case / 冲突"),
        (422, "Invalid input / 输入有误"),
        (429, "Too many failed logins, retry after Retry-After seconds / 登录失败次数过多"),
        (503, "Temporal unavailable / 服务暂不可用"),
    )
}

_HTTP_KINDS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
}


def _body(kind: str, detail: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status, headers=headers)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header"))


def install(app: FastAPI) -> None:
    @app.exception_handler(YgError)
    async def _yg(_: Request, e: YgError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        if isinstance(e, TooManyAttempts):
            headers = {"Retry-After": str(e.retry_after)}
        return _body(e.kind, e.detail, e.status, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        parts = [f"{_where(err['loc'])}: {err['msg']}" for err in e.errors()]
        return _body("InvalidInput", "输入有误 (invalid input) — " + "; ".join(parts), 422)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, e: HTTPException) -> JSONResponse:
        return _body(_HTTP_KINDS.get(e.status_code, "HttpError"), str(e.detail), e.status_code)
