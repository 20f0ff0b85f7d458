"""Enforcement case numbers (案号规定, 法〔2015〕137号)."""

from __future__ import annotations

import pytest

from domain.case_numbers import CaseNumber, parse_case_number
from domain.errors import InvalidInput


def _refusal(raw: str, **kw: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_case_number(raw, **kw)  # type: ignore[arg-type]
    return caught.value


def test_basic_court_enforcement_number_is_parsed() -> None:
    assert parse_case_number("（2026）云0102执123号") == CaseNumber(
        text="（2026）云0102执123号", year=2026, court_prefix="云0102", word="执", number=123
    )


@pytest.mark.parametrize(
    ("raw", "court", "word"),
    [
        ("（2026）云0102执恢45号", "云0102", "执恢"),
        ("（2026）云0102执异7号", "云0102", "执异"),
        ("（2025）云0102执保1号", "云0102", "执保"),
        ("（2026）云01执复3号", "云01", "执复"),
        ("（2026）云执监2号", "云", "执监"),
        ("（2026）云执88号", "云", "执"),
        ("（2026）云01执999999号", "云01", "执"),
    ],
)
def test_case_type_words_and_court_levels_are_recognised(raw: str, court: str, word: str) -> None:
    parsed = parse_case_number(raw)
    assert parsed.text == raw
    assert parsed.court_prefix == court
    assert parsed.word == word


def test_high_court_number_has_the_province_as_its_prefix() -> None:
    parsed = parse_case_number("（2026）云执12号")
    assert (parsed.court_prefix, parsed.word, parsed.number) == ("云", "执", 12)


def test_intermediate_court_number_has_two_digits_after_the_province() -> None:
    parsed = parse_case_number("（2026）云01执恢5号")
    assert (parsed.court_prefix, parsed.word, parsed.number) == ("云01", "执恢", 5)


def test_resumed_case_is_not_mistaken_for_a_plain_enforcement_case() -> None:
    assert parse_case_number("（2026）云0102执恢123号").word == "执恢"


@pytest.mark.parametrize("raw", ["(2026)云0102执123号", "〔2026〕云0102执123号", "  (2026)云0102执123号 "])
def test_half_width_brackets_are_written_full_width(raw: str) -> None:
    assert parse_case_number(raw).text == "（2026）云0102执123号"


@pytest.mark.parametrize(
    "raw",
    [
        "（2026）云0102执123",  # missing 号
        "（2026）云0102民初123号",  # a civil case, not enforcement
        "（2026）云0102执0123号",  # leading zero
        "（2026）云0102执0号",  # zero is not a number
        "（26）云0102执123号",  # two-digit year
        "2026云0102执123号",  # no brackets
        "（2026）云010执123号",  # odd number of court digits
        "（2026）0102执123号",  # no province
        "（2026）云0102执1234567号",  # more than six digits
        "",
    ],
)
def test_malformed_case_number_is_refused(raw: str) -> None:
    error = _refusal(raw)
    assert error.kind == "InvalidCaseNumber"
    assert error.status == 422
    assert "（2026）云0102执123号" in error.detail  # the message shows the expected form


def test_case_number_without_hao_is_refused_with_its_text_in_the_detail() -> None:
    error = _refusal("（2026）云0102执123")
    assert "（2026）云0102执123" in error.detail


def test_year_before_1990_is_refused() -> None:
    error = _refusal("（1989）云0102执1号")
    assert error.kind == "InvalidCaseNumber"
    assert "1989" in error.detail


def test_year_after_max_year_is_refused() -> None:
    assert parse_case_number("（2026）云0102执1号", max_year=2026).year == 2026
    error = _refusal("（2027）云0102执1号", max_year=2026)
    assert error.kind == "InvalidCaseNumber"
    assert "2027" in error.detail


def test_court_prefix_must_match_the_filing_court() -> None:
    assert parse_case_number("（2026）云0102执1号", court_prefix="云0102").court_prefix == "云0102"
    error = _refusal("（2026）云0103执1号", court_prefix="云0102")
    assert error.kind == "InvalidCaseNumber"
    assert "云0103" in error.detail
    assert "云0102" in error.detail


def test_intermediate_court_prefix_does_not_accept_a_basic_court_number() -> None:
    assert _refusal("（2026）云0102执1号", court_prefix="云01").kind == "InvalidCaseNumber"
