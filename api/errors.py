"""The one HTTP error shape of API.md: {"error": "<Kind>", "detail": "…"}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.edge import BodyRefused, unexpected
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
        (413, "Request body too large / 请求内容过大"),
        (422, "Invalid input / 输入有误"),
        (429, "Too many failed logins, retry after Retry-After seconds / 登录失败次数过多"),
        (500, "Internal error / 服务器内部错误"),
        (503, "Temporal or the database unavailable, retry later / 服务暂不可用"),
    )
}

_HTTP_KINDS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}
# Starlette's own details, in Chinese (the English stays in brackets for API clients).
_HTTP_DETAILS = {
    "Not Found": "不存在 (not found)",
    "Method Not Allowed": "不支持该请求方法 (method not allowed)",
    "There was an error parsing the body": "请求内容无法解析 (there was an error parsing the body)",
}

# Chinese names of the fields of request bodies, query and path parameters, for 422 details.
FIELD_LABELS = {
    "case_number": "案号",
    "court_code": "法院代码",
    "court": "法院代码",
    "cause": "案由",
    "amount": "金额",
    "filed_on": "立案日期",
    "has_property": "有无财产",
    "handler": "承办人",
    "clerk": "书记员",
    "applicants": "申请执行人",
    "agents": "委托代理人",
    "respondents": "被执行人",
    "name": "姓名或名称",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "phone": "手机号码",
    "address": "地址",
    "eservice_consent": "同意电子送达",
    "type": "节点类型",
    "occurred_at": "发生时间",
    "summary": "摘要",
    "disclose": "是否公开",
    "fields": "节点字段",
    "measures": "已采取的执行措施",
    "next_steps": "下一步执行计划",
    "applicant_tasks": "需要配合的事项",
    "text": "内容",
    "months": "延长月数",
    "reason": "理由",
    "approve": "是否批准",
    "note": "审批意见",
    "query_code": "查询码",
    "username": "用户名",
    "password": "密码",
    "q": "查找内容",
    "guide": "申请执行指南",
    "fees": "收费标准",
    "risk": "执行风险提示",
    "hotline": "监督电话",
    "mailbox": "执行局长信箱",
    "limit": "每页条数",
    "offset": "起始位置",
    "start": "起算日",
    "length": "期间长度",
    "unit": "期间单位",
    "within_days": "天数",
    "holidays": "节假日",
    "workdays": "调休工作日",
    "day": "日期",
    "year": "年份",
    "case_id": "案件编号",
    "approval_id": "审批申请编号",
    "Idempotency-Key": "幂等键",
}

# pydantic's error types in Chinese; {…} are the error's ctx values.
_MESSAGES = {
    "missing": "必须填写",
    "string_type": "应为文本",
    "string_unicode": "含有无效的 Unicode 字符（单独的代理项）",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_max_digits": "位数过多（最多 {max_digits} 位）",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_whole_digits": "整数部分位数过多",
    "finite_number": "应为有限的数字",
    "date_parsing": "应为日期（如 2026-01-31）",
    "date_from_datetime_parsing": "应为日期（如 2026-01-31）",
    "date_from_datetime_inexact": "应为日期（如 2026-01-31）",
    "date_type": "应为日期（如 2026-01-31）",
    "datetime_parsing": "应为带时区的时间（如 2026-01-31T10:00:00+08:00）",
    "datetime_from_date_parsing": "应为带时区的时间（如 2026-01-31T10:00:00+08:00）",
    "datetime_type": "应为带时区的时间（如 2026-01-31T10:00:00+08:00）",
    "timezone_aware": "须带时区（如 +08:00）",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "literal_error": "取值无效，可选：{expected}",
    "enum": "取值无效，可选：{expected}",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "json_invalid": "JSON 格式有误",
    "extra_forbidden": "不允许的字段",
}


# Lists of a body whose items are counted in words: 第2位申请执行人.
_COUNTED = {"applicants": "位", "agents": "位", "respondents": "位"}


def field_label(loc: Sequence[Any]) -> str:
    """A field's name in Chinese, the one place the API's 422 and the console's forms take it from:
    ("body", "applicants", 1, "phone") → 第2位申请执行人的手机号码; "" when no part of the path has a name."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    words: list[str] = []
    for i, part in enumerate(parts):
        if not isinstance(part, str) or part not in FIELD_LABELS:
            continue
        label = FIELD_LABELS[part]
        if i + 1 < len(parts) and isinstance(parts[i + 1], int):
            label = f"第{parts[i + 1] + 1}{_COUNTED.get(part, '项')}{label}"
        words.append(label)
    return "的".join(words)


def _label(loc: tuple[Any, ...]) -> str:
    """The field's Chinese name with its path for API clients: 第1位申请执行人的姓名或名称（applicants.0.name）."""
    where = _where(loc)
    if not where:
        return ""  # the body as a whole: the message names what it concerns
    label = field_label(loc)
    return f"{label}（{where}）" if label else where


def error_message(err: Mapping[str, Any]) -> str:
    """What pydantic found wrong with a field, in Chinese (the API's 422 and the console's forms)."""
    return _message(err)


def _message(err: Any) -> str:
    template = _MESSAGES.get(err.get("type", ""))
    if err.get("type") == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    if template is None:
        return str(err.get("msg", ""))
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return str(err.get("msg", ""))


def _body(kind: str, detail: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status, headers=headers)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header"))


# Paths that answer JSON (API.md) or files: their 404 keeps the error shape; every other path is a page.
_NOT_PAGES = ("/api/", "/codec/", "/static/", "/openapi.json", "/docs")


def _is_page(request: Request) -> bool:
    """A browser asking for a page of the console (an unknown path), not an API client."""
    path = request.url.path
    return request.method in ("GET", "HEAD") and not path.startswith(_NOT_PAGES) and path != "/api"


def install(app: FastAPI) -> None:
    @app.exception_handler(YgError)
    async def _yg(_: Request, e: YgError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        if isinstance(e, TooManyAttempts):
            headers = {"Retry-After": str(e.retry_after)}
        return _body(e.kind, e.detail, e.status, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        parts = [f"{_label(tuple(err['loc']))}{_message(err)}" for err in e.errors()[:10]]
        return _body("InvalidInput", "输入有误：" + "；".join(parts), 422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, e: HTTPException) -> Response:
        if e.status_code == 404 and _is_page(request):
            from api.routes.pages import not_found_page  # the console's templates import this module's neighbours

            return await not_found_page(request)
        if isinstance(e, BodyRefused):
            return _body(e.refusal.kind, e.refusal.detail, e.refusal.status)
        detail = _HTTP_DETAILS.get(str(e.detail), str(e.detail))
        return _body(_HTTP_KINDS.get(e.status_code, "HttpError"), detail, e.status_code, dict(e.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, e: Exception) -> JSONResponse:
        """The last resort (api/edge.py answers first): the shape, never internals."""
        answer = unexpected(e)
        return _body(answer.kind, answer.detail, answer.status)
