"""What makes a node record acceptable: one check shared by the API and the workflow's update validator."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from domain.clock import add_months, beijing_date, format_day
from domain.errors import InvalidInput
from domain.nodes import BY_CODE, CLOSURE_MODES, LIFTABLE_MEASURES, SERVICE_METHODS, node_type

# Clocks of court systems drift; an act stamped a few minutes ahead is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)
SCHEDULE_YEARS_AHEAD = 5
# Money a node reports, in yuan: up to 16 digits before the point (thousands may be grouped), 2 after.
AMOUNT_FIELDS = ("amount", "recovered_amount")
_AMOUNT = re.compile(r"(\d{1,16}|\d{1,3}(,\d{3}){1,5})(\.\d{1,2})?")


def check_node(*, type_code: str, occurred_at: datetime, fields: dict[str, str], filed_on: date, now: datetime) -> None:
    """Refuse unknown types, acts in the future or before filing, and missing type fields (API.md → Nodes)."""
    nt = node_type(type_code)
    if nt is None:
        raise InvalidInput(f"未知的节点类型“{type_code}”", kind="UnknownNodeType")
    if occurred_at.tzinfo is None:
        raise InvalidInput("发生时间必须带时区，如 2026-11-21T10:00:00+08:00", kind="InvalidTime")
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput("节点发生时间晚于当前时间，不能录入未来的事项", kind="FutureTime")
    if beijing_date(occurred_at) < filed_on:
        raise InvalidInput(f"节点发生时间早于立案日期{format_day(filed_on)}", kind="BeforeFiling")
    missing = [f for f in nt.required if not fields.get(f)]
    if missing:
        raise InvalidInput(f"“{nt.name}”节点缺少字段：{'、'.join(missing)}", kind="MissingField")
    if nt.code == "closure" and fields["mode"] not in CLOSURE_MODES:
        raise InvalidInput(
            f"结案方式“{fields['mode']}”无效，应为：{'、'.join(CLOSURE_MODES)}", kind="InvalidClosureMode"
        )
    for name in AMOUNT_FIELDS:
        if name in fields:
            _check_amount(name, fields[name])
    if nt.code == "measure_lifted":
        _check_measure(nt.name, fields.get("measure"))
    if nt.code == "service" and "method" in fields and fields["method"] not in SERVICE_METHODS:
        raise InvalidInput(
            f"送达方式“{fields['method']}”无效，应为：{'、'.join(SERVICE_METHODS)}", kind="InvalidServiceMethod"
        )
    if "scheduled_at" in fields:
        try:
            scheduled = datetime.fromisoformat(fields["scheduled_at"])
        except ValueError:
            raise InvalidInput("scheduled_at 不是有效的时间", kind="InvalidTime") from None
        if scheduled.tzinfo is None:
            raise InvalidInput("scheduled_at 必须带时区", kind="InvalidTime")
        try:
            day = beijing_date(scheduled)
        except OverflowError:
            raise InvalidInput("scheduled_at 超出可用的时间范围", kind="InvalidTime") from None
        # A scheduled act lies between filing and a few years ahead; anything else is a typing error.
        if not filed_on <= day <= add_months(beijing_date(now), 12 * SCHEDULE_YEARS_AHEAD):
            raise InvalidInput(
                f"安排时间应在立案日期{format_day(filed_on)}之后、{SCHEDULE_YEARS_AHEAD}年之内", kind="InvalidTime"
            )


def _check_measure(node_name: str, measure: str | None) -> None:
    """A lift names the measure it lifts, one that puts the respondent on a public list (seed 002 第一条)."""
    if not measure:
        raise InvalidInput(f"“{node_name}”节点缺少字段：measure", kind="MissingField")
    if measure not in LIFTABLE_MEASURES:
        allowed = "、".join(f"{m}（{BY_CODE[m].name}）" for m in LIFTABLE_MEASURES)
        raise InvalidInput(f"解除的措施“{measure}”无效，应为：{allowed}", kind="InvalidMeasure")


def _check_amount(name: str, raw: str) -> None:
    """An amount of money in yuan as people write it, such as 12000, 12,000.50: not negative, 2 decimals at most."""
    if not _AMOUNT.fullmatch(raw.strip()):
        raise InvalidInput(
            f"{name}“{raw}”不是有效的金额，应为不带符号的数字，最多两位小数，如 12000.50", kind="InvalidAmount"
        )
