"""Public lists: which node lists or lifts whom, and what the public sees of a respondent (seed 002 第一条)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.errors import InvalidInput
from domain.node_rules import check_node
from domain.nodes import LIFTABLE_MEASURES, node_type
from domain.public_lists import (
    LIST_OF_MEASURE,
    LIST_TITLES,
    PUBLIC_LISTS,
    MaskInput,
    MaskResult,
    PublicIdentity,
    filing_since,
    is_public_list,
    list_created_by,
    list_lifted_by,
    public_identity,
)

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def _identity(id_number: str | None, address: str | None = None, name: str = "李强") -> PublicIdentity:
    return public_identity(name=name, id_number=id_number, address=address)


def test_the_five_lists_of_seed_002_article_1() -> None:
    assert PUBLIC_LISTS == (
        "unfinished-cases",
        "dishonest",
        "exit-restrictions",
        "consumption-restrictions",
        "bidding-restrictions",
    )
    assert LIST_TITLES["dishonest"] == "失信被执行人"
    assert set(LIST_TITLES) == set(PUBLIC_LISTS)


def test_each_listing_measure_has_its_list_and_can_be_lifted() -> None:
    assert set(LIST_OF_MEASURE) == set(LIFTABLE_MEASURES)
    assert list_created_by("dishonest_listing") == "dishonest"
    assert list_created_by("exit_restriction") == "exit-restrictions"
    assert list_created_by("consumption_restriction") == "consumption-restrictions"
    assert list_created_by("bidding_restriction") == "bidding-restrictions"
    for measure in LIFTABLE_MEASURES:
        nt = node_type(measure)
        assert nt is not None and nt.category == 4


def test_other_nodes_touch_no_list() -> None:
    for code in ("freeze", "detention", "closure", "measure_lifted", "filed"):
        assert list_created_by(code) is None
    assert list_lifted_by("freeze", {"measure": "dishonest_listing"}) is None


def test_measure_lifted_lifts_the_list_of_its_measure() -> None:
    assert list_lifted_by("measure_lifted", {"measure": "dishonest_listing"}) == "dishonest"
    assert list_lifted_by("measure_lifted", {"measure": "exit_restriction"}) == "exit-restrictions"
    assert list_lifted_by("measure_lifted", {"measure": "detention"}) is None
    assert list_lifted_by("measure_lifted", {}) is None


def test_unknown_list_names_are_not_lists() -> None:
    assert is_public_list("dishonest")
    assert not is_public_list("Dishonest")
    assert not is_public_list("dishonest_listing")


def test_an_unfinished_case_is_listed_from_the_start_of_its_filing_day_in_beijing() -> None:
    assert filing_since(date(2026, 11, 20)) == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)


# --- what the public sees of a respondent ---


def test_eighteen_digit_resident_id_is_masked_and_its_birth_date_hidden() -> None:
    shown = _identity("530102199001011234")
    assert shown.id_number_masked == "5301************34"
    assert "19900101" not in (shown.id_number_masked or "")


def test_fifteen_digit_resident_id_is_masked_to_the_same_pattern() -> None:
    shown = _identity("530102900101123")
    assert shown.id_number_masked == "5301*********23"
    assert "900101" not in (shown.id_number_masked or "")


def test_company_credit_code_is_masked_and_the_company_name_kept_in_full() -> None:
    shown = _identity("91530102MA6N12345X", name="云南某某商贸有限公司")
    assert shown.name == "云南某某商贸有限公司"
    assert shown.id_number_masked == "9153************5X"


def test_natural_person_name_is_kept_in_full() -> None:
    assert _identity("530102199001011234", name=" 李强 ").name == "李强"


def test_address_is_kept_to_the_district() -> None:
    shown = _identity("530102199001011234", "云南省昆明市五华区某某路12号3栋")
    assert shown.address_masked == "云南省昆明市五华区"


def test_missing_or_unreadable_id_and_address_show_nothing() -> None:
    shown = _identity(None, None)
    assert (shown.id_number_masked, shown.address_masked) == (None, None)
    shown = _identity("  ", "某某小区3栋")
    assert (shown.id_number_masked, shown.address_masked) == (None, None)


# --- the measure_lifted node (解除限制措施) ---


def _check(fields: dict[str, str]) -> None:
    check_node(
        type_code="measure_lifted",
        occurred_at=NOW - timedelta(hours=1),
        fields=fields,
        filed_on=date(2026, 11, 20),
        now=NOW,
    )


def test_measure_lifted_is_a_compulsory_measure_node() -> None:
    nt = node_type("measure_lifted")
    assert nt is not None
    assert (nt.name, nt.category, nt.disclosed) == ("解除限制措施", 4, True)


@pytest.mark.parametrize("measure", LIFTABLE_MEASURES)
def test_lifting_each_listing_measure_is_accepted(measure: str) -> None:
    _check({"measure": measure})


def test_lifting_a_measure_that_lists_no_one_is_refused_in_chinese() -> None:
    with pytest.raises(InvalidInput) as caught:
        _check({"measure": "detention"})
    assert caught.value.kind == "InvalidMeasure"
    assert "detention" in caught.value.detail
    assert "dishonest_listing（纳入失信被执行人名单）" in caught.value.detail


def test_lifting_without_naming_the_measure_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        _check({})
    assert caught.value.kind == "MissingField"
    assert "measure" in caught.value.detail


# --- activity models ---


def test_mask_input_accepts_known_lists_or_none() -> None:
    assert MaskInput(case_id="c", reason="结案").lists is None
    assert MaskInput(case_id="c", lists=["dishonest"], reason="全部履行").lists == ["dishonest"]


def test_mask_input_refuses_an_unknown_list() -> None:
    with pytest.raises(ValidationError):
        MaskInput(case_id="c", lists=["dishonest_listing"], reason="x")


def test_mask_result_needs_a_timezone_aware_time() -> None:
    with pytest.raises(ValidationError):
        MaskResult(masked=1, confirmed_at=datetime(2026, 11, 21, 2, 0))
    assert MaskResult(masked=1, confirmed_at=NOW).confirmed_at == NOW
