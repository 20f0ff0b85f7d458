"""Beijing time and the simple day arithmetic of the entry rule; the full legal calendar comes with deadlines."""

from __future__ import annotations

import calendar as _gregorian
from datetime import date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")
ENTRY_DAYS = 3


def beijing_date(moment: datetime) -> date:
    """The calendar day of an instant in Beijing."""
    return moment.astimezone(BEIJING).date()


def end_of_day(day: date) -> datetime:
    """The last instant of a Beijing day: a period's last day ends at 24:00 (民法典 第二百零三条)."""
    return datetime.combine(day, time.max, BEIJING)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, BEIJING)


def entry_due(occurred_at: datetime) -> datetime:
    """Node information is entered within 3 days of the act, the day of the act not counted (seed 002 第二条)."""
    return end_of_day(beijing_date(occurred_at) + timedelta(days=ENTRY_DAYS))


def is_late_entry(occurred_at: datetime, entered_at: datetime) -> bool:
    """True when a node was entered after its entry deadline (rule entry-3d)."""
    return entered_at > entry_due(occurred_at)


def format_beijing(moment: datetime) -> str:
    """A Beijing time as court users write it: 2026年11月21日10时00分."""
    b = moment.astimezone(BEIJING)
    return f"{b.year}年{b.month}月{b.day}日{b.hour:02d}时{b.minute:02d}分"


def format_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def add_months(start: date, months: int) -> date:
    """The corresponding day of the last month, or that month's last day if it has none (民法典 第二百零二条)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, _gregorian.monthrange(year, month)[1]))
