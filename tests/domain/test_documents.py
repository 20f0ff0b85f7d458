"""Which documents are served electronically (seed 001 第六条): procedural ones, not rulings or decisions."""

from __future__ import annotations

import pytest

from domain.documents import eservable


@pytest.mark.parametrize(
    ("title", "served"),
    [
        ("执行通知书", True),
        ("报告财产令", True),
        ("限制消费令", True),
        ("冻结裁定书", False),
        ("终结本次执行程序裁定书", False),
        ("罚款决定书", False),
        ("拘留决定书（副本）", False),
    ],
)
def test_procedural_documents_are_served_electronically_rulings_and_decisions_are_not(title: str, served: bool) -> None:
    assert eservable(title) is served
