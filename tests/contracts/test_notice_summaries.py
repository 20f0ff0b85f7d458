"""How the notices lane's activity reads in the admin history and the Temporal UI: its notices in words."""

from __future__ import annotations

from contracts.activities import _batch_summary
from domain.models import Notice


def test_a_filing_s_notices_read_in_words() -> None:
    notices = [Notice(kind="deliver", reason="rungs:3"), Notice(reason="filed"), Notice(kind="list", reason="listed")]
    said = "督办短信 (ladder SMS) 3、立案短信 (filing SMS)、列入未结案件公开名单 (public list)"
    assert _batch_summary(notices) == said


def test_a_long_backlog_names_the_first_three_and_counts_the_rest() -> None:
    notices = [Notice(reason=f"node:n{i}", node_id=f"n{i}") for i in range(40)]
    summary = _batch_summary(notices)
    assert summary.startswith("节点短信 (node SMS) n0、节点短信 (node SMS) n1、节点短信 (node SMS) n2")
    assert summary.endswith(" 等40条") and "n3" not in summary
