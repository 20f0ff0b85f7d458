"""Legal period arithmetic: days, months and working days (民法典 第二百零一至二百零四条; 民事诉讼法 期间).

Every function takes the calendar as an argument and reads no clock: the same inputs always give the same
answer, and an activity records that answer in the workflow's history (ARCHITECTURE.md decision 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.calendar import Calendar
from domain.clock import add_months, beijing_date, end_of_day, start_of_day
from domain.errors import InvalidInput
from domain.obligations import PeriodRequest, Schedule
from domain.period_models import MAX_LENGTH, UNITS, Unit

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class PeriodResult:
    """A period's last day and the instant it ends (24:00 Beijing), and whether every year examined was known."""

    start: date
    unit: Unit
    length: int
    last_day: date
    ends_at: datetime
    confirmed: bool
    unknown_years: tuple[int, ...] = ()  # years examined without a holiday schedule: tell the administrators


class _Probe:
    """The calendar, noting every year it was asked about without knowing it."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.unknown: set[int] = set()

    def works(self, d: date) -> bool:
        if not self.calendar.known(d.year):
            self.unknown.add(d.year)
        return self.calendar.is_working_day(d)


def check_unit(unit: str) -> Unit:
    """One of the units of API.md → Legal periods, or InvalidInput."""
    if unit not in UNITS:
        raise InvalidInput(f"期间单位应为 days、months 或 working_days (unknown unit {unit!r})", kind="InvalidUnit")
    return unit  # type: ignore[return-value]


def check_length(length: int, *, minimum: int = 1) -> int:
    if not minimum <= length <= MAX_LENGTH:
        raise InvalidInput(f"期间长度应在 {minimum} 至 {MAX_LENGTH} 之间 (length {length})", kind="InvalidLength")
    return length


def _next_working_day(probe: _Probe, d: date) -> date:
    """A last day that is a holiday or rest day gives way to the first working day after it (民法典 第二百零三条)."""
    while not probe.works(d):
        d += _DAY
    return d


def _nth_working_day_after(probe: _Probe, start: date, n: int) -> date:
    """Count n working days after the day of the act, skipping holidays and rest days, counting 调休 days."""
    d = start
    while n > 0:
        d += _DAY
        if probe.works(d):
            n -= 1
    return d


def _nth_working_day_before(probe: _Probe, day: date, n: int) -> date:
    d = day
    while n > 0:
        d -= _DAY
        if probe.works(d):
            n -= 1
    return d


def compute_period(calendar: Calendar, start: date, length: int, unit: str) -> PeriodResult:
    """Act day not counted, last day ends 24:00 (民法典 第二百零一至二百零四条; 民事诉讼法 期间)."""
    u = check_unit(unit)
    check_length(length)
    probe = _Probe(calendar)
    try:
        if u == "working_days":
            last = _nth_working_day_after(probe, start, length)
        else:
            target = start + timedelta(days=length) if u == "days" else add_months(start, length)
            last = _next_working_day(probe, target)
    except (OverflowError, ValueError) as e:
        raise InvalidInput(f"期间超出可计算的日期范围 (period out of range: {e})", kind="InvalidPeriod") from e
    unknown = tuple(sorted(probe.unknown))
    return PeriodResult(
        start=start,
        unit=u,
        length=length,
        last_day=last,
        ends_at=end_of_day(last),
        confirmed=not unknown,
        unknown_years=unknown,
    )


def due_after(calendar: Calendar, moment: datetime, length: int, unit: str) -> PeriodResult:
    """A period counted from an act at an instant: from its Beijing date, that day not counted (民法典 第二百零一条)."""
    if moment.tzinfo is None:
        raise InvalidInput("时间须带时区 (naive datetime)", kind="InvalidInput")
    return compute_period(calendar, beijing_date(moment), length, unit)


@dataclass(frozen=True)
class DayResult:
    """A day found by counting working days, and the years examined without a holiday schedule."""

    day: date
    confirmed: bool
    unknown_years: tuple[int, ...] = ()


def working_days_back(calendar: Calendar, due_day: date, n: int) -> DayResult:
    """The day n working days before a due day, with the years it crossed unknown (rule ladder, seed 004)."""
    check_length(n, minimum=0)
    probe = _Probe(calendar)
    try:
        day = _nth_working_day_before(probe, due_day, n)
    except (OverflowError, ValueError) as e:
        raise InvalidInput(f"超出可计算的日期范围 (out of range: {e})", kind="InvalidPeriod") from e
    unknown = tuple(sorted(probe.unknown))
    return DayResult(day=day, confirmed=not unknown, unknown_years=unknown)


def working_days_before(calendar: Calendar, due_day: date, n: int) -> date:
    """The day n working days before a due day: "one working day before expiry" warns the bureau chief (seed 004)."""
    return working_days_back(calendar, due_day, n).day


def schedule_period(calendar: Calendar, req: PeriodRequest) -> tuple[Schedule, tuple[int, ...]]:
    """A deadline and its ladder in one computation: the checkpoint (if any), the due instant, the handler's
    reminder and the bureau chief's warning, N working days before the due day (seed 004); with the years
    examined that had no holiday schedule."""
    start, unknown = req.start, set[int]()
    if req.offset_months:
        checkpoint = due_after(calendar, start, req.offset_months, "months")
        start, unknown = checkpoint.ends_at, set(checkpoint.unknown_years)
    due = due_after(calendar, start, req.length, req.unit)
    remind = working_days_back(calendar, due.last_day, req.remind_before)
    warn = working_days_back(calendar, due.last_day, req.warn_before)
    unknown |= {*due.unknown_years, *remind.unknown_years, *warn.unknown_years}
    schedule = Schedule(
        key=req.key,
        start=start,
        due_at=due.ends_at,
        confirmed=not unknown,
        remind_at=start_of_day(remind.day),
        warn_at=start_of_day(warn.day),
    )
    return schedule, tuple(sorted(unknown))
