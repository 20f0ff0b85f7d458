"""The court information page (seed 002 第一条; seed 001 第二条): what each court tells the public, as sections an
administrator of the court writes in plain text (paragraphs separated by blank lines; no markup is interpreted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Section = Literal["guide", "fees", "risk", "hotline", "mailbox"]
SECTIONS: tuple[Section, ...] = get_args(Section)


@dataclass(frozen=True)
class SectionSpec:
    title: str
    max_length: int
    hint: str


SECTION_SPECS: dict[Section, SectionSpec] = {
    "guide": SectionSpec("申请执行指南", 5000, "申请条件、所需材料、申请期限与提交方式"),
    "fees": SectionSpec("收费标准", 3000, "申请执行费的计算方法与交纳方式"),
    "risk": SectionSpec("执行风险提示", 5000, "被执行人无财产可供执行等风险"),
    "hotline": SectionSpec("监督电话", 500, "执行监督与举报电话、接听时间"),
    "mailbox": SectionSpec("执行局长信箱", 500, "执行局长信箱的地址或电子邮箱"),
}


def section_title(section: str) -> str:
    """The Chinese title of a section stored by its code."""
    return next((SECTION_SPECS[s].title for s in SECTIONS if s == section), section)


def paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (split at blank lines), each a list of its lines: the page shows them as text, never as markup."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


# What the demo courts start with (db/demo.py); each court's administrator replaces it. {court} is the court's name.
DEMO_TEXT: dict[Section, str] = {
    "guide": (
        "申请执行人应当在法律文书规定履行期间的最后一日起二年内向{court}申请执行（民事诉讼法第二百五十条）。\n\n"
        "申请时请提交：申请执行书；生效法律文书副本；申请执行人的身份证明（自然人提交居民身份证，法人提交营业执照"
        "和法定代表人身份证明）；委托代理人代为申请的，提交授权委托书；被执行人的财产线索（如有）。\n\n"
        "可以到本院诉讼服务中心立案窗口提交，也可以通过人民法院在线服务平台网上申请。立案后，系统将以短信发送案号和"
        "查询码，凭身份证件号码、手机号码和查询码可以在网上查询案件进展。"
    ),
    "fees": (
        "申请执行费按执行金额或者价额交纳（《诉讼费用交纳办法》第十四条）：没有执行金额或者价额的，每件交纳50元至"
        "500元；执行金额或者价额不超过1万元的，每件交纳50元；超过1万元至50万元的部分，按照1.5%交纳；超过50万元"
        "至500万元的部分，按照1%交纳；超过500万元至1000万元的部分，按照0.5%交纳；超过1000万元的部分，按照0.1%"
        "交纳。\n\n"
        "申请执行费不由申请人预交，执行结束后由被执行人负担。"
    ),
    "risk": (
        "被执行人确无财产可供执行的，申请执行人的债权可能无法实现或者无法全部实现，这是申请执行人应当承担的商业风险"
        "和法律风险，并非法院执行不力。\n\n"
        "请申请执行人积极提供被执行人的财产线索；发现被执行人有可供执行的财产，可以随时申请恢复执行。"
    ),
    "hotline": "执行监督电话：0871-12368（工作日 9:00–12:00，14:30–17:30）",
    "mailbox": "执行局长信箱：{court}诉讼服务中心一楼信箱；也可以在本系统的案件查询页面留言或投诉。",
}
