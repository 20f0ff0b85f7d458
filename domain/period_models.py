"""What crosses the workflow boundary for deadlines: the calendar activities' names, inputs and results.

A workflow imports this module (under ``imports_passed_through``) and never the calendar itself: holiday
schedules change every year, recorded histories must not (ARCHITECTURE.md decision 3).
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, Field, field_validator

Unit = Literal["days", "months", "working_days"]
UNITS: tuple[str, ...] = get_args(Unit)
MAX_LENGTH = 10_000  # about 27 years of days; longer periods are typing errors, not law

COMPUTE_DUE = "compute_due"
WARN_AT = "warn_at"


class DueInput(BaseModel):
    """A period of ``length`` units counted from the Beijing date of ``start`` (the day of the act not counted)."""

    start: AwareDatetime
    length: int = Field(ge=1, le=MAX_LENGTH)
    unit: str  # days | months | working_days

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        if v not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        return v


class DueResult(BaseModel):
    """The instant a period ends (24:00 Beijing of its last day); confirmed is false when a year was unknown."""

    due_at: AwareDatetime
    last_day: date
    confirmed: bool


class WarnInput(BaseModel):
    """Warn ``working_days`` working days before the day of ``due_at`` (0: at the start of the due day itself)."""

    due_at: AwareDatetime
    working_days: int = Field(ge=0, le=MAX_LENGTH)


class WarnResult(BaseModel):
    """00:00 Beijing of the warning day."""

    at: AwareDatetime
