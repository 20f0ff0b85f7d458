"""The node catalogue: the 18 kinds of case information parties must see (seed 001 第三条), as data."""

from __future__ import annotations

from dataclasses import dataclass, field

CLOSURE_MODES = ("执行完毕", "终本", "终结执行", "不予执行", "驳回申请")

# The measures a measure_lifted node can lift (field ``measure``): each puts the respondent on a public list.
LIFTABLE_MEASURES = ("exit_restriction", "consumption_restriction", "dishonest_listing", "bidding_restriction")

# How a document is served (seed 001 第十一条: by e-mail, fax or post when not downloaded within 3 days); a service
# node may name it (field ``method``) and the document served (``document_id``).
SERVICE_METHODS = ("电子送达", "邮寄", "电子邮件", "传真", "直接送达", "留置送达", "公告送达")

# The eight columns of the seed 000 node-push statistics.
REPORT_COLUMNS = ("立案", "执行通知", "终本结案", "财产评估", "网络拍卖", "传统拍卖", "司法拘留", "限制出境")


@dataclass(frozen=True)
class NodeType:
    """One kind of node: its code, Chinese name, category (1–18 of seed 001 第三条) and SMS phrase."""

    code: str
    name: str
    category: int
    phrase: str
    disclosed: bool = True
    scheduled: bool = False
    required: tuple[str, ...] = ()
    report_column: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _n(code: str, name: str, category: int, phrase: str, **kw: object) -> NodeType:
    return NodeType(code, name, category, phrase, **kw)  # type: ignore[arg-type]


CATALOGUE: tuple[NodeType, ...] = (
    # 1 立案信息
    _n("filed", "立案", 1, "已立案", report_column="立案"),
    # 2 承办人
    _n("handler_assigned", "确定承办人", 2, "已确定承办人"),
    # 3 执行措施
    _n(
        "notice_issued",
        "发出执行通知书及报告财产令",
        3,
        "已向被执行人发出执行通知书及报告财产令",
        report_column="执行通知",
    ),
    _n("network_inquiry", "网络查控", 3, "已通过网络查控系统查询被执行人财产"),
    _n("field_inquiry", "传统查控", 3, "已对被执行人财产进行实地调查"),
    _n("seizure", "查封", 3, "已查封被执行人财产"),
    _n("freeze", "冻结", 3, "已冻结被执行人财产"),
    _n("deduction", "扣划", 3, "已扣划被执行人存款"),
    _n("distraint", "扣押", 3, "已扣押被执行人财产"),
    # 4 强制措施
    _n("detention", "司法拘留", 4, "已对被执行人采取司法拘留措施", report_column="司法拘留"),
    _n("fine", "罚款", 4, "已对被执行人处以罚款"),
    _n("compelled_appearance", "拘传", 4, "已对被执行人采取拘传措施"),
    _n("search", "搜查", 4, "已依法对被执行人住所或财产隐匿地进行搜查", disclosed=False),
    _n("exit_restriction", "限制出境", 4, "已对被执行人采取限制出境措施", report_column="限制出境"),
    _n("consumption_restriction", "限制高消费", 4, "已对被执行人采取限制高消费措施"),
    _n("dishonest_listing", "纳入失信被执行人名单", 4, "已将被执行人纳入失信被执行人名单"),
    _n("bidding_restriction", "限制招标投标", 4, "已限制被执行人参与招标投标"),
    # field ``measure``: one of LIFTABLE_MEASURES, checked by node_rules (missing → MissingField)
    _n("measure_lifted", "解除限制措施", 4, "已解除对被执行人采取的限制措施"),
    # 5 财产处置
    _n("appraisal", "委托评估", 5, "已随机选定评估机构，委托评估被执行人财产", report_column="财产评估"),
    _n(
        "online_auction",
        "网络拍卖",
        5,
        "定于{scheduled}网络拍卖被执行人财产",
        scheduled=True,
        required=("scheduled_at",),
        report_column="网络拍卖",
    ),
    _n(
        "traditional_auction",
        "传统拍卖",
        5,
        "定于{scheduled}拍卖被执行人财产",
        scheduled=True,
        required=("scheduled_at",),
        report_column="传统拍卖",
    ),
    _n("sale", "变卖", 5, "已变卖被执行人财产"),
    _n("offset_in_kind", "以物抵债", 5, "已裁定以被执行人财产抵偿债务"),
    # 6 分配与案款
    _n("distribution_plan", "分配方案", 6, "已制作财产分配方案"),
    _n("distribution_objection", "分配方案异议", 6, "已受理对分配方案的异议"),
    _n("funds_received", "执行款到账", 6, "执行款{amount}元已到账", required=("amount",)),
    _n("funds_paid", "执行款划付", 6, "已向您划付执行款{amount}元", required=("amount",)),
    # 7 程序变化
    _n("suspension", "暂缓执行", 7, "已决定暂缓执行"),
    _n("stay", "中止执行", 7, "已裁定中止执行"),
    _n("resumption", "恢复执行", 7, "已恢复执行"),
    _n("entrustment", "委托执行", 7, "已委托其他法院执行"),
    _n("designation", "指定执行", 7, "已由上级法院指定执行"),
    _n("elevation", "提级执行", 7, "已由上级法院提级执行"),
    # 8 和解
    _n("settlement", "执行和解", 8, "当事人已达成执行和解协议"),
    # 9 结案
    _n("closure", "结案", 9, "已以“{mode}”方式结案", required=("mode",)),
    _n(
        "termination_interview",
        "终本约谈",
        9,
        "定于{scheduled}进行终结本次执行程序约谈",
        scheduled=True,
        required=("scheduled_at",),
    ),
    # 10 执行异议、复议、案外人异议、变更追加
    _n("objection_filed", "执行异议立案", 10, "执行异议案件已立案"),
    _n("review_filed", "执行复议立案", 10, "执行复议案件已立案"),
    _n("third_party_objection", "案外人异议立案", 10, "案外人异议案件已立案"),
    _n("party_change", "变更追加当事人", 10, "变更、追加当事人案件已立案"),
    _n("objection_ruling", "异议复议裁定", 10, "异议（复议）案件已作出裁定"),
    # 11 信访、执行监督
    _n("petition_filed", "执行监督立案", 11, "执行监督（信访）案件已立案"),
    _n("petition_opinion", "监督处理意见", 11, "执行监督（信访）案件已提出处理意见"),
    # 12 听证、约谈
    _n("hearing", "听证", 12, "定于{scheduled}举行听证", scheduled=True, required=("scheduled_at",)),
    _n("interview", "询问约谈", 12, "定于{scheduled}进行询问", scheduled=True, required=("scheduled_at",)),
    # 13 执行期限
    _n("term_change", "执行期限变更", 13, "执行期限已依法变更"),
    # 14–15 文书
    _n("notice_document", "通知书及笔录", 14, "已制作相关通知书"),
    _n("ruling_issued", "裁定书或决定书", 15, "已作出裁定（决定）"),
    # 16 送达
    _n("service", "送达", 16, "相关法律文书已送达"),
    # 17 文书公开
    _n("ruling_published", "裁判文书公开", 17, "裁判文书已在中国裁判文书网公开"),
    # 18 其他
    _n("other", "其他", 18, "{summary}", disclosed=False),
)

BY_CODE: dict[str, NodeType] = {n.code: n for n in CATALOGUE}


def node_type(code: str) -> NodeType | None:
    """The catalogue entry for a code, or None when the code is unknown."""
    return BY_CODE.get(code)
