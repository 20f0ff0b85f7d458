"""The console's filing form (立案, issue 11 item 3): rows of applicants, agents and respondents read as the API's
CaseIn, each wrong field named in Chinese beside itself (the labels of api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from api.errors import error_message, field_label
from api.schemas import CaseIn
from db.models import Staff
from domain.errors import InvalidInput

# The rows of each kind of party and the fields of a row, in the order of CaseIn's lists.
KINDS = {"applicant": "applicants", "agent": "agents", "respondent": "respondents"}
KIND_NAMES = {"applicant": "申请执行人", "agent": "委托代理人", "respondent": "被执行人"}
ROW_FIELDS = {
    "applicant": ("name", "id_type", "id_number", "phone"),
    "agent": ("name", "id_type", "id_number", "phone"),
    "respondent": ("name", "id_type", "id_number", "address", "phone"),
}
CONSENT = ("applicant", "respondent")  # who may consent to e-service on the form (seed 001 第十一条)
MIN_ROWS = {"applicant": 1, "agent": 0, "respondent": 0}
MAX_ROWS = 20  # per kind on one form; the API takes more


class FilingInvalid(InvalidInput):
    """Fields of the filing form that are wrong: ``fields`` maps ``applicant-0-phone`` … to what is wrong."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        named = "；".join(dict.fromkeys(fields.values()))
        super().__init__(f"以下内容填写有误：{named}", kind="InvalidInput")
        self.fields = dict(fields)


Rows = dict[str, list[dict[str, str]]]


def blank_rows() -> Rows:
    """A new form: one applicant and one respondent, no agent."""
    return {"applicant": [blank("applicant")], "agent": [], "respondent": [blank("respondent")]}


def blank(kind: str) -> dict[str, str]:
    return dict.fromkeys(ROW_FIELDS[kind], "") | {"eservice_consent": ""}


def rows_of(data: FormData) -> Rows:
    """The rows as posted: repeated fields ``applicant_name`` …, aligned by order; a consent box carries its row's
    number; a row left empty is dropped (an applicant row is kept, to say what it lacks)."""
    rows: Rows = {}
    for kind, fields in ROW_FIELDS.items():
        columns = {f: [v.strip() if isinstance(v, str) else "" for v in data.getlist(f"{kind}_{f}")] for f in fields}
        count = min(max((len(c) for c in columns.values()), default=0), MAX_ROWS)
        consents = {v for v in data.getlist(f"{kind}_eservice_consent") if isinstance(v, str)}
        kept = []
        for i in range(count):
            row = {f: (columns[f][i] if i < len(columns[f]) else "") for f in fields}
            row["eservice_consent"] = "1" if str(i) in consents or (count == 1 and "1" in consents) else ""
            if any(v for f, v in row.items() if f not in ("id_type", "eservice_consent")):
                kept.append(row)
        rows[kind] = kept or [blank(kind) for _ in range(MIN_ROWS[kind])]
    return rows


def edit_rows(rows: Rows, *, add: str = "", remove: str = "") -> Rows:
    """Without JavaScript 添加 and 删除 are submit buttons that draw the form again with a row more or less."""
    edited = {k: list(v) for k, v in rows.items()}
    if add in edited and len(edited[add]) < MAX_ROWS:
        edited[add].append(blank(add))
    kind, _, index = remove.partition("-")
    if kind in edited and index.isdigit() and int(index) < len(edited[kind]) and len(edited[kind]) > MIN_ROWS[kind]:
        del edited[kind][int(index)]
    return edited


def _amount(text: str, errors: dict[str, str]) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        errors["amount"] = f"执行标的金额“{text}”不是有效的金额"
        return None
    if not value.is_finite() or value < 0:
        errors["amount"] = "执行标的金额不能为负数"
    elif value != value.quantize(Decimal("0.01")):
        errors["amount"] = "执行标的金额最多保留两位小数"
    return value


def case_in(form: Mapping[str, str], rows: Rows, staff: Staff) -> CaseIn:
    """The form as the API's CaseIn; every wrong field is collected, keyed as the form names it, then refused."""
    errors: dict[str, str] = {}
    for name, label in (("case_number", "案号"), ("cause", "案由"), ("amount", "执行标的金额")):
        if not form.get(name):
            errors[name] = f"请填写{label}"
    filed_on: date | None = None
    try:
        filed_on = date.fromisoformat(form.get("filed_on", ""))
    except ValueError:
        errors["filed_on"] = "请填写有效的立案日期"
    amount = _amount(form["amount"], errors) if form.get("amount") else None
    for kind, kind_rows in rows.items():
        for i, row in enumerate(kind_rows):
            if not row["name"]:
                errors[f"{kind}-{i}-name"] = f"请填写第{i + 1}位{KIND_NAMES[kind]}的姓名或名称"
    if errors:
        raise FilingInvalid(errors)
    body: dict[str, Any] = {
        "case_number": form["case_number"],
        "court_code": staff.court_code,
        "cause": form["cause"],
        "amount": amount,
        "filed_on": filed_on,
        "has_property": form.get("has_property") == "1",
        "handler": form.get("handler") or None,
        "clerk": form.get("clerk") or None,
    }
    for kind, key in KINDS.items():
        body[key] = [
            {f: (row.get(f) or None) for f in ROW_FIELDS[kind]}
            | ({"eservice_consent": row.get("eservice_consent") == "1"} if kind in CONSENT else {})
            for row in rows[kind]
        ]
    try:
        return CaseIn.model_validate(body)
    except ValidationError as e:
        raise FilingInvalid(_located(e.errors())) from None


def _located(errs: Sequence[Any]) -> dict[str, str]:
    """pydantic's errors keyed by the form's names (``applicants``, 1, ``phone`` → ``applicant-1-phone``)."""
    kinds = {v: k for k, v in KINDS.items()}
    fields: dict[str, str] = {}
    for err in errs:
        loc = tuple(err["loc"])
        if len(loc) >= 3 and loc[0] in kinds and isinstance(loc[1], int):
            key = f"{kinds[loc[0]]}-{loc[1]}-{loc[2]}"
        else:
            key = str(loc[0]) if loc else "form"
        fields.setdefault(key, f"{field_label(loc) or '输入'}：{error_message(err)}")
    return fields
