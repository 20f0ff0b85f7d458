"""Masking personal data shown beyond the case's own parties (seed 002 第一条)."""

from __future__ import annotations

from domain.masking import mask_id_number, mask_name


def test_resident_id_keeps_first_four_and_last_two_characters() -> None:
    assert mask_id_number("530102199001011234") == "5301************34"


def test_resident_id_with_x_check_digit_keeps_it() -> None:
    assert mask_id_number("53010219900101123X") == "5301************3X"


def test_masked_id_keeps_its_length_and_hides_the_birth_date() -> None:
    masked = mask_id_number("530102199001011234")
    assert len(masked) == 18
    assert "19900101" not in masked


def test_surrounding_spaces_are_ignored() -> None:
    assert mask_id_number(" 530102199001011234 ") == "5301************34"


def test_short_identifier_is_masked_entirely() -> None:
    assert mask_id_number("123456") == "******"
    assert mask_id_number("") == ""


def test_name_keeps_only_the_surname() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张**"


def test_single_character_name_is_still_masked() -> None:
    assert mask_name("张") == "张*"


def test_empty_name_stays_empty() -> None:
    assert mask_name("  ") == ""


def test_name_with_spaces_is_trimmed_first() -> None:
    assert mask_name(" 李四 ") == "李*"
