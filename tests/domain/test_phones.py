"""Applicant SMS numbers: placeholders, landlines and malformed numbers are refused (seed 000)."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.phones import check_mobile, mask_phone, normalise, placeholder_problem


def _refusal(raw: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_mobile(raw)
    return caught.value


@pytest.mark.parametrize("placeholder", ["*" * 11, "1" * 11, "0" * 11, "12345678901"])
def test_placeholder_phones_of_seed_000_are_refused_naming_the_number(placeholder: str) -> None:
    error = _refusal(placeholder)
    assert error.kind == "PlaceholderPhone"
    assert error.status == 422
    assert placeholder in error.detail
    assert "占位" in error.detail


def test_placeholder_phone_of_eleven_ones_is_refused() -> None:
    error = _refusal("11111111111")
    assert error.kind == "PlaceholderPhone"
    assert error.detail == "手机号码“11111111111”由同一数字重复组成，是占位号码"


def test_placeholder_phone_of_eleven_stars_is_refused() -> None:
    error = _refusal("***********")
    assert error.kind == "PlaceholderPhone"
    assert "“***********”" in error.detail


def test_half_masked_number_copied_from_a_list_is_a_placeholder() -> None:
    assert _refusal("138****8000").kind == "PlaceholderPhone"


def test_placeholder_written_with_country_code_and_spaces_is_still_a_placeholder() -> None:
    assert _refusal("+86 111 1111 1111").kind == "PlaceholderPhone"


def test_placeholder_problem_is_none_for_a_real_mobile() -> None:
    assert placeholder_problem("13800138000") is None


@pytest.mark.parametrize("landline", ["0871-65123456", "02161234567", "010-12345678", "(0871) 6512 3456"])
def test_landline_is_refused_because_it_cannot_receive_sms(landline: str) -> None:
    error = _refusal(landline)
    assert error.kind == "LandlinePhone"
    assert landline in error.detail
    assert "固定电话" in error.detail


@pytest.mark.parametrize("malformed", ["1380013800", "138001380001", "23800138000", "10086", "abc", ""])
def test_malformed_number_is_refused_as_invalid(malformed: str) -> None:
    assert _refusal(malformed).kind == "InvalidPhone"


@pytest.mark.parametrize("foreign", ["+852 9123 4567", "+1 650 253 0000"])
def test_number_outside_mainland_is_refused_because_sms_cannot_reach_it(foreign: str) -> None:
    error = _refusal(foreign)
    assert error.kind == "InvalidPhone"
    assert "中国大陆" in error.detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138 0013 8000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("(+86)13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
    ],
)
def test_country_code_and_separators_are_normalised_to_eleven_digits(raw: str, expected: str) -> None:
    assert check_mobile(raw) == expected


def test_normalise_strips_separators_and_country_code() -> None:
    assert normalise(" +86 (138) 0013-8000 ") == "13800138000"
    assert normalise("008613800138000") == "13800138000"


@pytest.mark.parametrize(
    "mobile",
    [
        "13800138000",  # China Mobile
        "15012345678",  # China Mobile
        "14712345678",  # China Mobile
        "18612345678",  # China Unicom
        "16612345678",  # China Unicom
        "19912345678",  # China Telecom
        "17012345678",  # China Telecom (virtual operators)
        "19212345678",  # China Broadnet
    ],
)
def test_valid_mobiles_of_every_carrier_are_accepted(mobile: str) -> None:
    assert check_mobile(mobile) == mobile


def test_masked_phone_keeps_first_three_and_last_four_digits() -> None:
    assert mask_phone("13800138000") == "138****8000"


def test_masked_phone_normalises_before_masking() -> None:
    assert mask_phone("+86 138-0013-8000") == "138****8000"


def test_short_number_is_masked_entirely() -> None:
    assert mask_phone("10086") == "*****"
