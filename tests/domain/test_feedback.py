"""The draft of a progress feedback: measures taken since the last feedback and their results (seed 002 第五条)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.feedback import draft_feedback
from domain.models import RecordedNode
from domain.sms import QUERY_CODE_LABEL, Signature, feedback_message


@dataclass(frozen=True)
class _Node:
    type: str
    occurred_at: datetime
    entered_at: datetime
    summary: str
    fields: dict[str, str]
    disclose: bool


def N(
    type: str,
    occurred_at: datetime,
    summary: str = "",
    *,
    fields: dict[str, str] | None = None,
    disclose: bool = True,
    entered_at: datetime | None = None,
) -> _Node:
    """A node as the read model holds it, entered when it happened unless told otherwise."""
    return _Node(type, occurred_at, entered_at or occurred_at, summary, fields or {}, disclose)


def utc(day: int, hour: int = 2, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def test_draft_since_filing_lists_each_measure_with_its_beijing_date_name_and_summary() -> None:
    text = draft_feedback(
        [
            N("freeze", utc(21), "冻结被执行人银行存款5万元"),
            N("network_inquiry", utc(20, 17), "总对总查询，发现银行存款5万元"),  # 21日01时 in Beijing
        ],
        None,
    )
    assert text.splitlines() == [
        "立案以来，本院已采取以下执行措施：",
        "1. 2026年11月21日，网络查控：总对总查询，发现银行存款5万元。",
        "2. 2026年11月21日，冻结：冻结被执行人银行存款5万元。",
    ]


def test_draft_counts_only_what_happened_or_was_recorded_after_the_last_feedback() -> None:
    last = utc(25)
    text = draft_feedback(
        [
            N("freeze", utc(21), "冻结银行存款"),  # told in the last feedback
            N("seizure", utc(22), "查封房产一套", entered_at=utc(26)),  # recorded late: not yet told
            N("detention", utc(27), "司法拘留十五日"),
        ],
        last,
    )
    assert text.startswith("自2026年11月25日上次反馈以来，本院已采取以下执行措施：")
    assert "冻结银行存款" not in text
    assert "查封：查封房产一套" in text
    assert "司法拘留：司法拘留十五日" in text


def test_draft_leaves_out_undisclosed_nodes_and_the_filing() -> None:
    text = draft_feedback(
        [
            N("filed", utc(20)),
            N("handler_assigned", utc(20)),
            N("search", utc(21), "搜查被执行人住所", disclose=False),
            N("other", utc(22), "内部会商", disclose=False),
        ],
        None,
    )
    assert text == "立案以来，本院暂未采取新的执行措施。"


def test_draft_without_summary_uses_the_node_phrase_and_states_results() -> None:
    text = draft_feedback(
        [
            N("funds_received", utc(21), fields={"amount": "5000.00"}),
            N("funds_paid", utc(22), "向申请执行人划付执行款", fields={"amount": "4000.50"}),
            N("online_auction", utc(23), fields={"scheduled_at": "2026-12-20T10:00:00+08:00"}),
            N("closure", utc(24), fields={"mode": "终本", "recovered_amount": "9000.50"}),
        ],
        None,
    )
    lines = text.splitlines()
    assert lines[1] == "1. 2026年11月21日，执行款到账：执行款5000.00元已到账。"
    assert lines[2] == "2. 2026年11月22日，执行款划付：向申请执行人划付执行款（金额4000.50元）。"
    assert lines[3] == "3. 2026年11月23日，网络拍卖：定于2026年12月20日10时00分网络拍卖被执行人财产。"
    assert lines[4] == "4. 2026年11月24日，结案：已以“终本”方式结案（执行到位9000.50元）。"
    assert lines[5] == "执行款：到账合计5000.00元，已向您划付合计4000.50元。"


def test_draft_names_the_measure_a_lift_lifts() -> None:
    text = draft_feedback([N("measure_lifted", utc(21), fields={"measure": "consumption_restriction"})], None)
    assert "解除限制措施：已解除对被执行人采取的限制措施（解除限制高消费）。" in text


def test_draft_reads_the_workflow_s_recorded_nodes_too() -> None:
    node = RecordedNode(
        node_id="n1",
        seq=1,
        type="deduction",
        occurred_at=utc(21),
        entered_at=utc(21),
        late=False,
        disclose=True,
        summary="扣划存款1万元。",
        idempotency_key="k",
        recorded_by="handler",
    )
    assert draft_feedback([node], None).endswith("1. 2026年11月21日，扣划：扣划存款1万元。")


def test_feedback_sms_points_to_the_portal_without_the_full_text() -> None:
    body = feedback_message(
        Signature("昆明市五华区人民法院", "王承办", "0871-61011001"), case_number="（2026）云0102执1号", n=2
    )
    assert body == (
        "【昆明市五华区人民法院】您申请执行的（2026）云0102执1号案件第2次执行进展已反馈，"
        f"请凭身份证号码、手机号码和{QUERY_CODE_LABEL}登录查看全文并提出意见。承办人王承办，办公电话0871-61011001。"
    )
