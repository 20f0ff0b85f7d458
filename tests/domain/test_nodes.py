"""The node catalogue covers the 18 kinds of case information (seed 001 第三条) and the seed 000 report."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from domain.nodes import BY_CODE, CATALOGUE, CLOSURE_MODES, REPORT_COLUMNS, NodeType, node_type
from domain.sms import Signature, node_message

_FIELDS = re.compile(r"\{(\w+)\}")


def _fields_for(nt: NodeType) -> dict[str, str]:
    values = {"scheduled_at": "2026-12-01T09:30:00+08:00", "amount": "12000.00", "mode": "执行完毕"}
    return {f: values[f] for f in nt.required}


def test_every_category_of_seed_001_article_3_has_a_node_type() -> None:
    assert {n.category for n in CATALOGUE} == set(range(1, 19))


def test_node_codes_are_unique() -> None:
    codes = [n.code for n in CATALOGUE]
    assert len(codes) == len(set(codes))
    assert set(BY_CODE) == set(codes)


def test_node_names_are_unique() -> None:
    names = [n.name for n in CATALOGUE]
    assert len(names) == len(set(names))


# The starting catalogue of DOMAIN.md, by category of seed 001 第三条.
DOMAIN_NODES = {
    1: ["filed"],
    2: ["handler_assigned"],
    3: ["notice_issued", "network_inquiry", "field_inquiry", "seizure", "freeze", "deduction", "distraint"],
    4: [
        "detention", "fine", "compelled_appearance", "search", "exit_restriction",
        "consumption_restriction", "dishonest_listing", "bidding_restriction",
    ],
    5: ["appraisal", "online_auction", "traditional_auction", "sale", "offset_in_kind"],
    6: ["distribution_plan", "funds_received", "funds_paid"],
    7: ["suspension", "stay", "resumption", "entrustment", "designation", "elevation"],
    8: ["settlement"],
    9: ["closure", "termination_interview"],
}  # fmt: skip


@pytest.mark.parametrize("category", sorted(DOMAIN_NODES))
def test_catalogue_lists_the_nodes_named_in_the_domain_under_their_category(category: int) -> None:
    for code in DOMAIN_NODES[category]:
        nt = node_type(code)
        assert nt is not None, code
        assert nt.category == category, code


def test_node_type_lookup_returns_the_entry_or_none() -> None:
    freeze = node_type("freeze")
    assert freeze is not None
    assert (freeze.name, freeze.category) == ("冻结", 3)
    assert node_type("no_such_node") is None


def test_report_columns_of_node_types_are_columns_of_the_seed_000_table() -> None:
    used = [n.report_column for n in CATALOGUE if n.report_column is not None]
    assert set(used) <= set(REPORT_COLUMNS)


def test_each_report_column_but_zhongben_closure_is_counted_from_exactly_one_node_type() -> None:
    counts = Counter(n.report_column for n in CATALOGUE if n.report_column is not None)
    for column in REPORT_COLUMNS:
        if column == "终本结案":
            continue
        assert counts[column] == 1, column


def test_zhongben_column_comes_from_closures_in_zhongben_mode_not_from_a_node_type() -> None:
    # 终本结案 counts closures whose mode is 终本; the closure node itself serves every mode.
    assert all(n.report_column != "终本结案" for n in CATALOGUE)
    assert BY_CODE["closure"].report_column is None
    assert "mode" in BY_CODE["closure"].required
    assert "终本" in CLOSURE_MODES


def test_report_columns_are_the_eight_of_seed_000() -> None:
    assert REPORT_COLUMNS == (
        "立案",
        "执行通知",
        "终本结案",
        "财产评估",
        "网络拍卖",
        "传统拍卖",
        "司法拘留",
        "限制出境",
    )


def test_seed_000_columns_map_to_the_expected_nodes() -> None:
    assert BY_CODE["filed"].report_column == "立案"
    assert BY_CODE["notice_issued"].report_column == "执行通知"
    assert BY_CODE["appraisal"].report_column == "财产评估"
    assert BY_CODE["online_auction"].report_column == "网络拍卖"
    assert BY_CODE["traditional_auction"].report_column == "传统拍卖"
    assert BY_CODE["detention"].report_column == "司法拘留"
    assert BY_CODE["exit_restriction"].report_column == "限制出境"


def test_closure_modes_include_the_five_ways_a_case_ends() -> None:
    assert set(CLOSURE_MODES) == {"执行完毕", "终本", "终结执行", "不予执行", "驳回申请"}


@pytest.mark.parametrize("nt", [n for n in CATALOGUE if n.scheduled], ids=lambda n: n.code)
def test_every_scheduled_node_type_requires_scheduled_at(nt: NodeType) -> None:
    assert "scheduled_at" in nt.required
    assert "{scheduled}" in nt.phrase


@pytest.mark.parametrize("nt", CATALOGUE, ids=lambda n: n.code)
def test_phrase_placeholders_are_filled_by_required_fields(nt: NodeType) -> None:
    """A phrase may only name what the node is sure to carry: a required field, the summary, or the time."""
    for name in _FIELDS.findall(nt.phrase):
        if name == "scheduled":
            assert nt.scheduled, nt.code
        elif name != "summary":
            assert name in nt.required, (nt.code, name)


@pytest.mark.parametrize("nt", CATALOGUE, ids=lambda n: n.code)
def test_every_phrase_renders_into_a_complete_sms(nt: NodeType) -> None:
    body = node_message(
        Signature("昆明市五华区人民法院", "李明", "0871-65123456"),
        case_number="（2026）云0102执123号",
        node=nt,
        occurred_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        fields=_fields_for(nt),
        summary="已向申请执行人送达执行款领取通知",
    )
    assert "{" not in body
    assert "}" not in body
    assert body.startswith("【昆明市五华区人民法院】您申请执行的（2026）云0102执123号案件，")
    assert body.endswith("承办人李明，办公电话0871-65123456。")
    if nt.scheduled:
        assert "2026年12月1日09时30分" in body
    else:
        assert "2026年11月21日10时00分" in body


def test_nodes_hidden_from_parties_by_default_are_search_and_other() -> None:
    # A search warns the debtor if announced; "other" may carry anything, so a judge opts in.
    assert {n.code for n in CATALOGUE if not n.disclosed} == {"search", "other"}
