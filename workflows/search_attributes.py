"""Search attributes of case workflows: codes, states and instants only, never personal data (decision 6)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

COURT = SearchAttributeKey.for_keyword("YgCourt")
STATUS = SearchAttributeKey.for_keyword("YgStatus")
HANDLER = SearchAttributeKey.for_keyword("YgHandler")
EARLIEST_DUE = SearchAttributeKey.for_datetime("YgEarliestDue")  # the next open deadline
OVERDUE_LEVEL = SearchAttributeKey.for_int("YgOverdueLevel")  # 0 none, 1 handler reminded, 2 chief warned, 3 escalated

ALL = (COURT, STATUS, HANDLER, EARLIEST_DUE, OVERDUE_LEVEL)
