"""The rules of DOMAIN.md as data: versioned rule sets, pinned per case at filing (decision 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Unit = Literal["days", "months", "working_days"]
Rung = Literal["remind_open", "remind_due", "warn", "escalate"]

# Who each rung of the ladder reaches (seed 004): the handler, then the bureau chief, then the president
# and the discipline inspection head.
RUNG_ROLES: dict[str, tuple[str, ...]] = {
    "remind_open": ("handler",),
    "remind_due": ("handler",),
    "warn": ("bureau_chief",),
    "escalate": ("president", "discipline"),
}
RUNG_NAMES: dict[str, str] = {
    "remind_open": "提醒承办人",
    "remind_due": "到期前提醒承办人",
    "warn": "临期预警执行局长",
    "escalate": "超期报告院长、纪检组长",
}
LEVELS: dict[str, int] = {"remind_open": 0, "remind_due": 1, "warn": 2, "escalate": 3}


@dataclass(frozen=True)
class Rule:
    """One deadline rule: its period, what starts it, what meets it, whether stays pause it, and its source."""

    id: str
    name: str
    length: int
    unit: Unit
    starts_on: str
    met_by: tuple[str, ...]
    paused_by_stays: bool
    source: str
    text: str
    params: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Ladder:
    """The escalation ladder (the `ladder` rule): when the handler is reminded and the bureau chief warned."""

    remind_before_working_days: int = 1
    warn_before_working_days: int = 1
    source: str = "seed 004 长垣法院“天德”系统：临期预警执行局长，超期报告院长、纪检组长"


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    ladder: Ladder = Ladder()
    stay_nodes: tuple[str, ...] = ("stay", "suspension")
    resume_nodes: tuple[str, ...] = ("resumption",)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


RULES_2026_1 = RuleSet(
    version="2026.1",
    rules=(
        Rule(
            id="entry-3d",
            name="节点信息录入",
            length=3,
            unit="days",
            starts_on="the act of a node (its occurred_at; for a scheduled act, its scheduled_at)",
            met_by=("the node recording the act",),
            paused_by_stays=False,
            source="seed 002 第二条",
            text="执行案件信息应当在相关执行行为完成之日起3日内录入。",
        ),
        Rule(
            id="assign-7d",
            name="确定承办人",
            length=7,
            unit="days",
            starts_on="filed",
            met_by=("handler_assigned",),
            paused_by_stays=False,
            source="法发〔2006〕35号《关于执行案件立案、结案若干问题的意见》/执行期限规定",
            text="立案后7日内确定承办人。",
        ),
        Rule(
            id="investigate-1m",
            name="财产调查",
            length=1,
            unit="months",
            starts_on="filed",
            met_by=("network_inquiry",),
            paused_by_stays=True,
            source="法发〔2006〕35号 执行期限规定",
            text="立案后1个月内完成对被执行人财产状况的调查（网络查控）。",
        ),
        Rule(
            id="term-6m",
            name="执行期限",
            length=6,
            unit="months",
            starts_on="filed",
            met_by=("closure",),
            paused_by_stays=True,
            source="法发〔2006〕35号 执行期限规定",
            text="执行案件应当在立案之日起6个月内执结；无财产可供执行的案件3个月。"
            "延长期限应在期限届满5日前申请，由院长或分管副院长批准；中止、暂缓期间扣除。",
            params={"no_property_months": 3, "extension_notice_days": 5, "max_extension_months": 6},
        ),
        Rule(
            id="feedback",
            name="执行进展反馈",
            length=15,
            unit="days",
            starts_on="checkpoints 1 month, 6 months and every 3 months after filing while open",
            met_by=("feedback",),
            paused_by_stays=False,
            source="seed 002 第五条",
            text="执行案件受理届满一个月、六个月（未结案）以及此后的每三个月，案件承办人应当于期限届满后"
            "十五日内向申请执行人反馈执行进展情况。",
            params={"first_months": 1, "second_months": 6, "every_months": 3},
        ),
        Rule(
            id="mask-5wd",
            name="结案后屏蔽公开信息",
            length=5,
            unit="working_days",
            starts_on="closure",
            met_by=("every public list confirms the masking",),
            paused_by_stays=False,
            source="seed 002 第十二条",
            text="执行案件结案后，应在5个工作日内将未结执行实施案件信息、失信被执行人信息、限制出境、"
            "限制高消费、限制招标投标被执行人信息进行屏蔽。",
        ),
        Rule(
            id="delist-3wd",
            name="失信名单删除",
            length=3,
            unit="working_days",
            starts_on="full performance (closure 执行完毕) of a case with a 失信 listing",
            met_by=("the dishonest list confirms the removal",),
            paused_by_stays=False,
            source="《关于公布失信被执行人名单信息的若干规定》第十条",
            text="被执行人全部履行义务的，人民法院应当在3个工作日内删除失信信息。",
        ),
        Rule(
            id="query-1m",
            name="当事人网上查询期限",
            length=1,
            unit="months",
            starts_on="closure",
            met_by=("the end of online query",),
            paused_by_stays=False,
            source="seed 002 第四条",
            text="案件结案后1个月，当事人网上查询功能关闭。",
        ),
        Rule(
            id="zhongben-5y",
            name="终本案件定期查询",
            length=6,
            unit="months",
            starts_on="closure 终本",
            met_by=("network_inquiry",),
            paused_by_stays=False,
            source="《关于严格规范终结本次执行程序的规定（试行）》第九条",
            text="终结本次执行程序后五年内，执行法院应当每六个月通过网络执行查控系统查询一次被执行人的财产，"
            "并将查询结果告知申请执行人。",
            params={"years": 5},
        ),
    ),
)

RULE_SETS: dict[str, RuleSet] = {RULES_2026_1.version: RULES_2026_1}
CURRENT_VERSION = RULES_2026_1.version


def rule_set(version: str) -> RuleSet:
    """The rule set a case was filed under; an unknown version is a bug, not bad input."""
    return RULE_SETS[version]


def feedback_checkpoint_months(n: int, rules: RuleSet) -> int:
    """Months after filing of the n-th feedback checkpoint: 1, 6, then every 3 (seed 002 第五条)."""
    p = rules.rule("feedback").params
    if n == 1:
        return p["first_months"]
    return p["second_months"] + (n - 2) * p["every_months"]
