"""The conditions of 终结本次执行程序 (终本规定 2016 第一条; the sampling points of seed 003)."""

from __future__ import annotations

from datetime import date, datetime

from domain.clock import add_months, beijing_date

ZHONGBEN_MODE = "终本"
INQUIRY_WINDOW_MONTHS = 3  # the 总对总 inquiry must lie within the 3 months before closing
MIN_MONTHS_OPEN = 3  # more than 3 months since filing


def unmet_conditions(*, filed_on: date, last_at: dict[str, datetime], closing_at: datetime) -> list[str]:
    """Which 终本 conditions a closure at ``closing_at`` does not meet, in Chinese (终本规定 第一条, seed 003)."""
    today = beijing_date(closing_at)
    unmet: list[str] = []
    if "notice_issued" not in last_at:
        unmet.append("未发出执行通知书及报告财产令")
    if "consumption_restriction" not in last_at:
        unmet.append("未对被执行人采取限制高消费措施")
    inquiry = last_at.get("network_inquiry")
    if inquiry is None or beijing_date(inquiry) < add_months(today, -INQUIRY_WINDOW_MONTHS):
        unmet.append("结案前3个月内未通过网络查控系统（总对总）查询被执行人财产")
    if "field_inquiry" not in last_at:
        unmet.append("未完成传统查控（实地调查）")
    if today <= add_months(filed_on, MIN_MONTHS_OPEN):
        unmet.append("自立案之日起未满3个月")
    if "termination_interview" not in last_at:
        unmet.append("未进行终本约谈")
    if "ruling_issued" not in last_at:
        unmet.append("终结本次执行程序裁定书未作出并送达")
    return unmet
