"""SMS texts to parties (seed 001 第八条, 第九条)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.ladder import rung_name
from domain.nodes import BY_CODE
from domain.portal import portal_link
from domain.sms import Duty, Signature, filing_message, node_message, redact_query_code, rung_message

COURT = "昆明市五华区人民法院"
CASE = "（2026）云0102执123号"
CODE = "AB23CD45"
ASSIGNED = Signature(COURT, "李明", "0871-65123456")
UNASSIGNED = Signature(COURT)


def _filing(sig: Signature = UNASSIGNED) -> str:
    return filing_message(sig, case_number=CASE, filed_on="2026年11月20日", query_code=CODE)


def test_filing_sms_is_signed_by_the_court_and_names_the_case() -> None:
    body = _filing()
    assert body.startswith(f"【{COURT}】")
    assert CASE in body
    assert "2026年11月20日立案" in body


def test_filing_sms_carries_the_query_code_and_how_to_use_it() -> None:
    body = _filing()
    assert f"查询码：{CODE}" in body
    assert "身份证号码" in body
    assert "手机号码" in body
    assert "勿告知他人" in body


def test_filing_sms_before_a_handler_is_assigned_promises_a_later_notice() -> None:
    assert _filing().endswith("承办人确定后将另行通知。")


def test_filing_sms_with_a_handler_gives_name_and_office_phone() -> None:
    body = _filing(ASSIGNED)
    assert body.endswith("承办人李明，办公电话0871-65123456。")
    assert "另行通知" not in body


def test_handler_without_office_phone_is_named_alone() -> None:
    assert Signature(COURT, "李明").contact() == "承办人李明。"


def test_node_sms_states_when_and_what_happened() -> None:
    body = node_message(
        ASSIGNED,
        case_number=CASE,
        node=BY_CODE["freeze"],
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields={},
        summary="",
    )
    assert body == (
        f"【{COURT}】您申请执行的{CASE}案件，2026年11月21日10时00分，已冻结被执行人财产。"
        "承办人李明，办公电话0871-65123456。"
    )


def test_auction_sms_gives_the_scheduled_time_in_beijing() -> None:
    body = node_message(
        ASSIGNED,
        case_number=CASE,
        node=BY_CODE["online_auction"],
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields={"scheduled_at": "2026-12-20T02:00:00+00:00"},
        summary="",
    )
    assert "定于2026年12月20日10时00分网络拍卖被执行人财产" in body
    # The auction date is what matters; the day it was recorded is left out.
    assert "2026年11月21日" not in body


def test_closure_sms_names_the_mode() -> None:
    body = node_message(
        UNASSIGNED,
        case_number=CASE,
        node=BY_CODE["closure"],
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields={"mode": "终本"},
        summary="",
    )
    assert "已以“终本”方式结案" in body
    assert body.endswith("承办人确定后将另行通知。")


def test_funds_sms_gives_the_amount() -> None:
    body = node_message(
        ASSIGNED,
        case_number=CASE,
        node=BY_CODE["funds_paid"],
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields={"amount": "12000.00"},
        summary="",
    )
    assert "已向您划付执行款12000.00元" in body


def test_other_node_sms_carries_the_judges_summary() -> None:
    body = node_message(
        ASSIGNED,
        case_number=CASE,
        node=BY_CODE["other"],
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields={},
        summary="被执行人已主动联系法院",
    )
    assert "被执行人已主动联系法院。" in body


def test_redacted_filing_sms_hides_the_query_code() -> None:
    redacted = redact_query_code(_filing())
    assert CODE not in redacted
    assert "查询码：******" in redacted


def test_redaction_changes_nothing_but_the_query_code() -> None:
    body = _filing()
    assert redact_query_code(body) == body.replace(CODE, "******")


def test_redaction_leaves_a_node_sms_untouched() -> None:
    body = node_message(
        ASSIGNED,
        case_number=CASE,
        node=BY_CODE["freeze"],
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields={},
        summary="",
    )
    assert redact_query_code(body) == body


def test_filing_sms_links_to_the_portal_with_the_case_number_as_one_ascii_link() -> None:
    """An SMS app or QR reader ends a link at a space or a character outside ASCII (seed 004: the portal's link)."""
    link = portal_link("https://zxgk.court.example/", CASE)
    assert link == "https://zxgk.court.example/portal?case=%EF%BC%882026%EF%BC%89%E4%BA%910102%E6%89%A7123%E5%8F%B7"
    body = filing_message(UNASSIGNED, case_number=CASE, filed_on="2026年11月20日", query_code=CODE, portal_url=link)
    assert f"请登录 {link} 凭身份证号码、手机号码和查询码查询案件进展" in body
    assert redact_query_code(body).count(CODE) == 0 and link in redact_query_code(body)


def test_a_reminder_names_whom_the_rule_assigns() -> None:
    """An e-service clock reminds the clerk, a complaint's the discipline head: the SMS says so, not 承办人."""
    name = rung_name("remind_due", "clerk")
    clerk = Duty(subject="电子送达文书签收", rung_name=name, due="12月3日", opening=False, overdue=False)
    text = rung_message("某法院", case_number="（2026）云0102执1号", duties=[clerk])
    assert "到期前提醒书记员" in text and "承办人" not in text
    assert rung_name("remind_open") == "提醒承办人" and rung_name("warn", "clerk") == "临期预警执行局长"
