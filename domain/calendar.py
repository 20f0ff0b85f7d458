"""The working-day calendar: the State Council's yearly holiday schedule (published data, then administrators).

Published data is the ``chinesecalendar`` package: it covers the years ``PUBLISHED_FIRST_YEAR`` to
``PUBLISHED_LAST_YEAR`` (2004–2026 in version 1.11.0). A later year is known once an administrator enters its
schedule; a year known to neither is computed on weekends alone and marked unconfirmed (DOMAIN.md → Time).
The calendar is a pure value built from plain data, used by activities and the API, never by workflow code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from chinese_calendar import constants as _published

from domain.errors import Forbidden, InvalidInput

DayKind = Literal["holiday", "workday"]
Source = Literal["published", "entered", "unknown"]
DAY_KINDS: tuple[DayKind, ...] = ("holiday", "workday")


@dataclass(frozen=True)
class ScheduledDay:
    """One day of a yearly schedule: a holiday (放假) or a make-up working day (调休上班)."""

    day: date
    kind: DayKind
    name: str = ""

    @classmethod
    def of(cls, day: date, kind: str, name: str = "") -> ScheduledDay:
        """A day from plain data (a database row): kind must be holiday or workday."""
        if kind == "holiday":
            return cls(day, "holiday", name)
        if kind == "workday":
            return cls(day, "workday", name)
        raise ValueError(f"unknown day kind {kind!r}")


@dataclass(frozen=True)
class YearSchedule:
    """A year's holidays and make-up working days (国务院办公厅 部分节假日安排), day → name."""

    year: int
    source: Literal["published", "entered"]
    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)

    def days(self) -> list[ScheduledDay]:
        """Every scheduled day of the year in date order."""
        out = [ScheduledDay(d, "holiday", n) for d, n in self.holidays.items()]
        out += [ScheduledDay(d, "workday", n) for d, n in self.workdays.items()]
        return sorted(out, key=lambda s: s.day)


def entered_schedules(days: Iterable[ScheduledDay]) -> dict[int, YearSchedule]:
    """Group an administrator's days (e.g. database rows) into one schedule per year."""
    holidays: dict[int, dict[date, str]] = {}
    workdays: dict[int, dict[date, str]] = {}
    for s in days:
        if s.kind not in DAY_KINDS:
            raise ValueError(f"unknown day kind {s.kind!r}")
        target = holidays if s.kind == "holiday" else workdays
        target.setdefault(s.day.year, {})[s.day] = s.name
    return {
        y: YearSchedule(
            y, "entered", dict(sorted(holidays.get(y, {}).items())), dict(sorted(workdays.get(y, {}).items()))
        )
        for y in sorted(set(holidays) | set(workdays))
    }


def _chinese_name(value: str) -> str:
    """The Chinese name of a published holiday ("National Day" → "国庆节")."""
    try:
        return str(_published.Holiday(value).chinese)
    except ValueError:
        return value


def _published_years() -> dict[int, YearSchedule]:
    days = [ScheduledDay(d, "holiday", _chinese_name(v)) for d, v in _published.holidays.items()]
    days += [ScheduledDay(d, "workday", _chinese_name(v)) for d, v in _published.workdays.items()]
    return {y: replace(s, source="published") for y, s in entered_schedules(days).items()}


_PUBLISHED = _published_years()
PUBLISHED_FIRST_YEAR = min(_PUBLISHED)
PUBLISHED_LAST_YEAR = max(_PUBLISHED)


def published_schedule(year: int) -> YearSchedule | None:
    """The schedule the chinesecalendar package publishes for a year, if it covers it."""
    return _PUBLISHED.get(year)


def check_enterable(year: int) -> None:
    """Only a year after the published ones is entered or changed: a published State Council schedule is read-only
    for everyone, and an earlier year has no open deadline left to confirm (DOMAIN.md → Time)."""
    if year <= PUBLISHED_LAST_YEAR:
        why = "已由国务院公布" if published_schedule(year) is not None else "早于已公布的年份"
        raise Forbidden(
            f"{year}年的节假日安排{why}，不能录入或修改；只能录入{PUBLISHED_LAST_YEAR + 1}年及以后的安排"
            " (published schedules are read-only)",
            kind="ScheduleReadOnly",
        )


def check_schedule(year: int, days: Iterable[ScheduledDay]) -> list[ScheduledDay]:
    """An entered schedule: days of that year, each once, 调休 on weekends, a holiday at least (DOMAIN.md → Time)."""
    out: list[ScheduledDay] = []
    seen: set[date] = set()
    for s in days:
        if s.day.year != year:
            raise InvalidInput(f"{s.day.isoformat()} 不在 {year} 年内 (day outside the year)", kind="DayOutsideYear")
        if s.day in seen:
            raise InvalidInput(f"{s.day.isoformat()} 重复出现 (day listed twice)", kind="DuplicateDay")
        if s.kind == "workday" and s.day.weekday() < 5:
            raise InvalidInput(
                f"调休上班日 {s.day.isoformat()} 应为周六或周日 (a make-up working day falls on a weekend)",
                kind="WorkdayNotWeekend",
            )
        seen.add(s.day)
        out.append(s)
    if not any(s.kind == "holiday" for s in out):
        raise InvalidInput(f"{year} 年的安排至少包括一个节假日 (no holidays given)", kind="NoHolidays")
    return sorted(out, key=lambda s: s.day)


class Calendar:
    """Which days are working days: weekdays, less holidays, plus make-up weekends (调休), per known year.

    An entered schedule replaces the published one for its year (an administrator's correction wins).
    """

    def __init__(self, entered: Iterable[ScheduledDay] = (), *, published: bool = True) -> None:
        self._years: dict[int, YearSchedule] = dict(_PUBLISHED) if published else {}
        self._years.update(entered_schedules(entered))

    def is_working_day(self, d: date) -> bool:
        """A make-up working day works, a holiday rests, otherwise Monday–Friday work (weekends alone if unknown)."""
        sched = self._years.get(d.year)
        if sched is not None:
            if d in sched.workdays:
                return True
            if d in sched.holidays:
                return False
        return d.weekday() < 5

    def known(self, year: int) -> bool:
        """True when the year's holiday schedule is published or entered."""
        return year in self._years

    def source(self, year: int) -> Source:
        sched = self._years.get(year)
        return sched.source if sched is not None else "unknown"

    def schedule(self, year: int) -> YearSchedule | None:
        return self._years.get(year)
