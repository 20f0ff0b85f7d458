"""Search attributes of case workflows: codes and states only, never personal data (decision 6)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

COURT = SearchAttributeKey.for_keyword("YgCourt")
STATUS = SearchAttributeKey.for_keyword("YgStatus")
HANDLER = SearchAttributeKey.for_keyword("YgHandler")

ALL = (COURT, STATUS, HANDLER)
