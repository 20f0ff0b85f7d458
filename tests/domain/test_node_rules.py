"""What makes a node record acceptable (API.md → Nodes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import InvalidInput
from domain.node_rules import check_node

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
FILED_ON = date(2026, 11, 20)


def _check(
    type_code: str = "freeze",
    *,
    occurred_at: datetime = NOW - timedelta(hours=1),
    fields: dict[str, str] | None = None,
    filed_on: date = FILED_ON,
) -> None:
    check_node(type_code=type_code, occurred_at=occurred_at, fields=fields or {}, filed_on=filed_on, now=NOW)


def _refusal(type_code: str = "freeze", **kw: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        _check(type_code, **kw)  # type: ignore[arg-type]
    return caught.value


def test_a_normal_freeze_is_accepted() -> None:
    _check("freeze")


def test_unknown_node_type_is_refused_naming_it() -> None:
    error = _refusal("teleportation")
    assert error.kind == "UnknownNodeType"
    assert "teleportation" in error.detail


def test_act_in_the_future_beyond_clock_skew_is_refused() -> None:
    assert _refusal(occurred_at=NOW + timedelta(minutes=6)).kind == "FutureTime"
    assert _refusal(occurred_at=NOW + timedelta(days=1)).kind == "FutureTime"


def test_act_a_few_minutes_ahead_is_tolerated_as_clock_drift() -> None:
    _check(occurred_at=NOW + timedelta(minutes=4))
    _check(occurred_at=NOW + timedelta(minutes=5))


def test_act_without_time_zone_is_refused() -> None:
    assert _refusal(occurred_at=datetime(2026, 11, 21, 9, 0)).kind == "InvalidTime"


def test_act_the_day_before_filing_in_beijing_is_refused() -> None:
    # 15:30 UTC on Nov 19 is 23:30 on Nov 19 in Beijing: before the Nov 20 filing.
    error = _refusal(occurred_at=datetime(2026, 11, 19, 15, 30, tzinfo=UTC))
    assert error.kind == "BeforeFiling"
    assert "2026年11月20日" in error.detail


def test_act_late_on_the_utc_day_before_filing_is_on_the_filing_day_in_beijing() -> None:
    # 23:30 UTC on Nov 19 is 07:30 on Nov 20 in Beijing: the filing day itself.
    _check(occurred_at=datetime.fromisoformat("2026-11-19T23:30:00+00:00"))


def test_act_on_the_filing_day_is_accepted() -> None:
    _check(occurred_at=datetime.fromisoformat("2026-11-20T00:00:00+08:00"))


def test_closure_without_mode_is_refused() -> None:
    error = _refusal("closure")
    assert error.kind == "MissingField"
    assert "mode" in error.detail
    assert "结案" in error.detail


def test_closure_with_empty_mode_is_refused() -> None:
    assert _refusal("closure", fields={"mode": ""}).kind == "MissingField"


def test_closure_with_an_unknown_mode_is_refused_listing_the_modes() -> None:
    error = _refusal("closure", fields={"mode": "调解结案"})
    assert error.kind == "InvalidClosureMode"
    assert "调解结案" in error.detail
    assert "终本" in error.detail


@pytest.mark.parametrize("mode", ["执行完毕", "终本", "终结执行", "不予执行", "驳回申请"])
def test_closure_in_each_mode_is_accepted(mode: str) -> None:
    _check("closure", fields={"mode": mode})


@pytest.mark.parametrize("code", ["online_auction", "traditional_auction", "hearing", "termination_interview"])
def test_scheduled_node_without_scheduled_at_is_refused(code: str) -> None:
    error = _refusal(code)
    assert error.kind == "MissingField"
    assert "scheduled_at" in error.detail


def test_auction_scheduled_ahead_is_accepted() -> None:
    _check("online_auction", fields={"scheduled_at": "2026-12-20T10:00:00+08:00"})


def test_scheduled_at_that_is_not_a_time_is_refused() -> None:
    assert _refusal("online_auction", fields={"scheduled_at": "下周三"}).kind == "InvalidTime"


def test_scheduled_at_without_time_zone_is_refused() -> None:
    assert _refusal("hearing", fields={"scheduled_at": "2026-12-20T10:00:00"}).kind == "InvalidTime"


def test_funds_received_without_amount_is_refused() -> None:
    error = _refusal("funds_received")
    assert error.kind == "MissingField"
    assert "amount" in error.detail


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "1990-06-01T10:00:00+08:00",
        "2099-01-01T10:00:00+08:00",
    ],
)
def test_scheduled_at_outside_filing_and_five_years_is_refused(value: str) -> None:
    """An edge-of-calendar time once jammed the case's workflow on every retry."""
    assert _refusal("online_auction", fields={"scheduled_at": value}).kind == "InvalidTime"


def test_scheduled_at_five_years_ahead_is_counted_from_a_leap_day() -> None:
    """Five years after 29 February is 28 February: a leap-day clock must not crash the check."""
    leap = datetime(2028, 2, 29, 2, 0, tzinfo=UTC)
    fields = {"scheduled_at": "2033-02-28T10:00:00+08:00"}
    check_node(type_code="hearing", occurred_at=leap, fields=fields, filed_on=date(2028, 2, 1), now=leap)
    with pytest.raises(InvalidInput):
        late = {"scheduled_at": "2033-03-01T10:00:00+08:00"}
        check_node(type_code="hearing", occurred_at=leap, fields=late, filed_on=date(2028, 2, 1), now=leap)


@pytest.mark.parametrize("value", ["12000", "12000.5", "12,000.50", "0", "1,234,567.89"])
def test_amounts_as_people_write_them_are_accepted(value: str) -> None:
    _check("funds_received", fields={"amount": value})
    _check("closure", fields={"mode": "执行完毕", "recovered_amount": value})


@pytest.mark.parametrize("value", ["-500", "1.234", "一万元", "1E+4", "NaN", "1,00", "12345678901234567"])
def test_amounts_that_are_not_money_are_refused_naming_the_value(value: str) -> None:
    for code, fields in (
        ("funds_paid", {"amount": value}),
        ("closure", {"mode": "执行完毕", "recovered_amount": value}),
    ):
        error = _refusal(code, fields=fields)
        assert error.kind == "InvalidAmount"
        assert value in error.detail


def test_a_service_node_names_a_known_method_of_service() -> None:
    """Seed 001 第十一条: a document not downloaded is served by e-mail, fax or post; the method is one of those."""
    _check("service", fields={"method": "邮寄", "document_id": "d1"})
    _check("service")  # a service node need not name a method
    error = _refusal("service", fields={"method": "飞鸽传书"})
    assert error.kind == "InvalidServiceMethod" and "邮寄" in error.detail
