"""The rules of DOMAIN.md as data: versioned rule sets, pinned per case at filing (decision 5).

A rule says what opens an obligation (``opens_on``: events), what meets it (``met_by``: node codes or events),
what ends it unmet (``ended_by``), whether stays pause it, how it repeats (``chain``) and whom its reminders
reach. The obligation book (domain/obligations.py) reads nothing else, so a new version changes behaviour
without code. Events: ``filed``, ``filed_unassigned``, ``scheduled_act`` (a node carrying ``scheduled_at``),
``closed``, ``closed:<mode>``, ``restored``, ``message``, ``complaint``, ``eservice_reminder``; meeting
events besides node codes: ``feedback``, ``masked``, ``reply``, ``downloaded``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from domain.period_models import Unit


@dataclass(frozen=True)
class Chain:
    """How a rule repeats: the n-th instance lies ``months(n)`` after its anchor (filing or closure), and the
    next instance opens when this one opens or is met, up to ``limit`` instances."""

    next_on: Literal["open", "met"]
    offsets_months: tuple[int, ...]
    every_months: int
    limit: int | None = None
    due_at_checkpoint: bool = False  # the checkpoint is the deadline itself, not the start of the period

    def months(self, n: int) -> int:
        if n <= len(self.offsets_months):
            return self.offsets_months[n - 1]
        return self.offsets_months[-1] + (n - len(self.offsets_months)) * self.every_months


@dataclass(frozen=True)
class Rule:
    """One deadline rule: its period, what opens, meets and ends it, whether stays pause it, and its source."""

    id: str
    name: str
    length: int
    unit: Unit
    opens_on: tuple[str, ...]
    met_by: tuple[str, ...]
    paused_by_stays: bool
    source: str
    text: str
    subject: str  # a template over {length}, {n}, {months}, {node}, {day}
    ended_by: tuple[str, ...] = ("closed",)
    requires_recorded: tuple[str, ...] = ()  # opens only if one of these nodes was recorded before
    length_without_property: int | None = None
    extendable: bool = False  # an approved term extension lengthens it
    chain: Chain | None = None
    assignee: str = "handler"  # whom the reminders reach; the bureau chief and leaders stand above everyone
    laddered: bool = True  # false: a date the case records (``case_field``), not a duty anyone is chased for
    case_field: str | None = None  # the case records this clock's due instant (cases.query_ends_at)
    # The event's own SMS is the assignee's first reminder (a party's message announces itself to the handler):
    # the ladder starts at the reminder before the due day, so no one reads of the same message twice.
    announced: bool = False
    # A node meets an obligation opened for a ref (a document) only when its field of this name names that ref:
    # the clerk's ``service`` node with ``document_id`` meets that document's e-service clock, no other.
    ref_field: str | None = None
    params: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Ladder:
    """The escalation ladder (the `ladder` rule): when the handler is reminded and the bureau chief warned."""

    remind_before_working_days: int = 1
    warn_before_working_days: int = 1
    source: str = "seed 004 长垣法院“天德”系统：临期预警执行局长，超期报告院长、纪检组长"


@dataclass(frozen=True)
class ZhongbenConditions:
    """The conditions of 终结本次执行程序 (终本规定 2016 第一条; the sampling points of seed 003)."""

    mode: str = "终本"
    required: tuple[tuple[str, str], ...] = (
        ("notice_issued", "未发出执行通知书及报告财产令"),
        ("consumption_restriction", "未对被执行人采取限制高消费措施"),
        ("field_inquiry", "未完成传统查控（实地调查）"),
        ("termination_interview", "未进行终本约谈"),
        ("ruling_issued", "终结本次执行程序裁定书未作出并送达"),
    )
    inquiry_node: str = "network_inquiry"
    inquiry_window_months: int = 3
    inquiry_missing: str = "结案前3个月内未通过网络查控系统（总对总）查询被执行人财产"
    min_months_open: int = 3
    too_early: str = "自立案之日起未满3个月"
    follow_up_rule: str = "zhongben-5y"  # the 6-monthly inquiry after closure, recordable on the closed case


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    ladder: Ladder = Ladder()
    stay_nodes: tuple[str, ...] = ("stay", "suspension")
    resume_nodes: tuple[str, ...] = ("resumption",)
    closure_node: str = "closure"
    assignment_node: str = "handler_assigned"
    extension_node: str = "term_change"  # tells the applicant the term moved (seed 001 第三条)
    # Events the API may send a case besides nodes (a party's message or complaint, the reply to it, an e-service
    # reminder, a party's first download): each opens or meets what the rules above say of it.
    outside_events: tuple[str, ...] = (
        "message",
        "complaint",
        "reply",
        "eservice_reminder",
        "downloaded",
        # A change of the case's parties that sends new query codes (seed 002 第四条): no clock, only its SMS.
        "agent_added",
        "agent_dismissed",
        "party_corrected",
    )
    zhongben: ZhongbenConditions = ZhongbenConditions()
    # Who decides what (法发〔2006〕35号: the president or vice president extends the term; seed 003: the
    # bureau chief approves a 终本 that misses conditions; seed 004: the bureau chief assigns cases; DOMAIN.md →
    # roles: administrators keep the calendars). The holiday schedule moves every court's deadlines, so only an
    # administrator of a high court enters or changes it (``decider_courts``: the court levels a kind needs).
    deciders: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "extension": ("president", "vice_president"),
            "zhongben": ("bureau_chief",),
            "assignment": ("bureau_chief", "vice_president"),
            "calendar": ("admin",),
        }
    )
    decider_courts: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"calendar": ("high",)})

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def opened_by(self, event: str) -> list[Rule]:
        return [r for r in self.rules if event in r.opens_on]

    @property
    def entry(self) -> Rule:
        """The rule of entering a node within days of the act (it also watches scheduled acts)."""
        return self.opened_by("scheduled_act")[0]

    @property
    def extendable(self) -> Rule:
        """The rule an extension lengthens (the execution term)."""
        return next(r for r in self.rules if r.extendable)


RULES_2026_1 = RuleSet(
    version="2026.1",
    rules=(
        Rule(
            id="entry-3d",
            name="节点信息录入",
            length=3,
            unit="days",
            opens_on=("scheduled_act",),
            met_by=(),  # the node of the same type recording the act, on or after its day
            paused_by_stays=False,
            source="seed 002 第二条",
            text="执行案件信息应当在相关执行行为完成之日起3日内录入。",
            subject="{node}（定于{day}）情况录入",
        ),
        Rule(
            id="assign-7d",
            name="确定承办人",
            length=7,
            unit="days",
            opens_on=("filed_unassigned",),
            met_by=("handler_assigned",),
            paused_by_stays=False,
            source="法发〔2006〕35号《关于执行案件立案、结案若干问题的意见》/执行期限规定",
            text="立案后7日内确定承办人。",
            subject="确定承办人",
            assignee="bureau_chief",
        ),
        Rule(
            id="investigate-1m",
            name="财产调查",
            length=1,
            unit="months",
            opens_on=("filed",),
            met_by=("network_inquiry",),
            paused_by_stays=True,
            source="法发〔2006〕35号 执行期限规定",
            text="立案后1个月内完成对被执行人财产状况的调查（网络查控）。",
            subject="财产调查（网络查控）",
        ),
        Rule(
            id="term-6m",
            name="执行期限",
            length=6,
            unit="months",
            opens_on=("filed",),
            met_by=("closure",),
            paused_by_stays=True,
            source="法发〔2006〕35号 执行期限规定",
            text="执行案件应当在立案之日起6个月内执结；无财产可供执行的案件3个月。"
            "延长期限应在期限届满5日前申请，由院长或分管副院长批准；中止、暂缓期间扣除。",
            subject="执行期限（{length}个月）",
            length_without_property=3,
            extendable=True,
            params={"extension_notice_days": 5, "max_extension_months": 6},
        ),
        Rule(
            id="feedback",
            name="执行进展反馈",
            length=15,
            unit="days",
            opens_on=("filed",),
            met_by=("feedback",),
            paused_by_stays=False,
            source="seed 002 第五条",
            text="执行案件受理届满一个月、六个月（未结案）以及此后的每三个月，案件承办人应当于期限届满后"
            "十五日内向申请执行人反馈执行进展情况。",
            subject="第{n}次执行进展反馈（立案满{months}个月）",
            chain=Chain(next_on="open", offsets_months=(1, 6), every_months=3),
        ),
        Rule(
            id="mask-5wd",
            name="结案后屏蔽公开信息",
            length=5,
            unit="working_days",
            opens_on=("closed",),
            met_by=("masked",),
            paused_by_stays=False,
            source="seed 002 第十二条",
            text="执行案件结案后，应在5个工作日内将未结执行实施案件信息、失信被执行人信息、限制出境、"
            "限制高消费、限制招标投标被执行人信息进行屏蔽。",
            subject="结案后屏蔽公开名单信息",
            ended_by=(),
        ),
        Rule(
            id="delist-3wd",
            name="失信名单删除",
            length=3,
            unit="working_days",
            opens_on=("closed:执行完毕",),
            met_by=("masked",),
            paused_by_stays=False,
            source="《关于公布失信被执行人名单信息的若干规定》第十条",
            text="被执行人全部履行义务的，人民法院应当在3个工作日内删除失信信息。",
            subject="全部履行后删除失信名单信息",
            ended_by=(),
            requires_recorded=("dishonest_listing",),
        ),
        Rule(
            id="query-1m",
            name="当事人网上查询期限",
            length=1,
            unit="months",
            opens_on=("closed",),
            met_by=(),
            paused_by_stays=False,
            source="seed 002 第四条",
            text="案件结案后1个月，当事人网上查询功能关闭。",
            subject="当事人网上查询期限",
            ended_by=("restored",),
            laddered=False,
            case_field="query_ends_at",
        ),
        Rule(
            id="zhongben-5y",
            name="终本案件定期查询",
            length=6,
            unit="months",
            opens_on=("closed:终本",),
            met_by=("network_inquiry",),
            paused_by_stays=False,
            source="《关于严格规范终结本次执行程序的规定（试行）》第九条",
            text="终结本次执行程序后五年内，执行法院应当每六个月通过网络执行查控系统查询一次被执行人的财产，"
            "并将查询结果告知申请执行人。",
            subject="终本后第{n}次网络查控",
            ended_by=("restored",),
            chain=Chain(next_on="met", offsets_months=(6,), every_months=6, limit=10, due_at_checkpoint=True),
        ),
        Rule(
            id="message",
            name="答复当事人留言",
            length=3,
            unit="working_days",
            opens_on=("message",),
            met_by=("reply",),
            paused_by_stays=False,
            source="seed 001 第十条; DOMAIN.md (3 working days: local default)",
            text="案件当事人及委托代理人登录执行流程信息公开模块后，可向案件承办人留言……案件承办人可通过网上办案平台"
            "对留言进行回复。（答复期限：3个工作日，本院规定）",
            subject="答复当事人留言",
            ended_by=(),
            announced=True,
        ),
        Rule(
            id="complaint",
            name="答复当事人投诉",
            length=3,
            unit="working_days",
            opens_on=("complaint",),
            met_by=("reply",),
            paused_by_stays=False,
            source="seed 004 长垣法院“天德”系统; DOMAIN.md (3 working days: local default)",
            text="当事人及代理人……可以通过窗口链接，直接与驻院纪检监察组对话，举报投诉执行法官。（答复期限：3个工作日，本院规定）",
            subject="答复当事人投诉",
            ended_by=(),
            announced=True,
            assignee="discipline",
        ),
        Rule(
            id="eservice-3d",
            name="电子送达签收",
            length=3,
            unit="days",
            opens_on=("eservice_reminder",),
            met_by=("downloaded", "service"),
            paused_by_stays=False,
            source="seed 001 第十一条",
            text="执行机构书记员负责跟踪受送达人接受电子送达的情况……提醒短信发出后三日内受送达人未下载或者查阅"
            "电子送达的执行文书的，应当通过电子邮件、传真、邮寄等方式及时送达。",
            subject="电子送达文书签收",
            ended_by=(),
            assignee="clerk",
            ref_field="document_id",
        ),
    ),
)

RULE_SETS: dict[str, RuleSet] = {RULES_2026_1.version: RULES_2026_1}
CURRENT_VERSION = RULES_2026_1.version


def rule_set(version: str) -> RuleSet:
    """The rule set a case was filed under; an unknown version is a bug, not bad input."""
    return RULE_SETS[version]
