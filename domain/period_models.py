"""The units and bounds of legal periods (民法典 第二百零一至二百零四条)."""

from __future__ import annotations

from typing import Literal, get_args

Unit = Literal["days", "months", "working_days"]
UNITS: tuple[str, ...] = get_args(Unit)
MAX_LENGTH = 10_000  # about 27 years of days; longer periods are typing errors, not law
