"""Demo cases (development only, issue 11 item 6): a few hundred enforcement cases in every state, so every page of
the console shows real-looking content after `make run`.

Every case goes the real way: it is filed through the API (``POST /api/cases`` as the court's registrar), so its
workflow exists and writes the read model; nodes, feedback, extension and 终本 requests, decisions, messages and a
restoration are sent through the API too, by the staff member whose job they are. Two things the API cannot give a
script are taken from the database: which demo cases already exist (a second run files nothing again) and a
party's portal token, issued as the portal's login issues it (the query code only ever leaves in an SMS).

Filing dates lie over the last ~14 months; the engine records the deadlines already past at filing (one summary
SMS per staff member per transition, through the outbox provider of dev). Names, ID numbers and phones are
generated: surnames and given names drawn from lists, resident ID numbers and credit codes with valid check
characters, mobiles in 170-0871-xxxx. Demo case numbers are （year）<court prefix>执8001号 onwards in each basic
court (restored ones 执恢); a number of that range already filed in its court is skipped.

Run: ``python -m db.demo_cases <API base URL>``; ``YG_DEMO_CASES`` sets the count (default 240, 0 for none)."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.portal_auth import issue_party_token
from core.settings import Settings
from db.demo import COURTS, DEMO_PASSWORD
from db.models import Case, Party
from domain.clock import BEIJING, add_months
from domain.identity import credit_code_check, mod11_check
from domain.secrets import hashed, new_query_code

log = logging.getLogger("yangguang.demo_cases")

DEFAULT_COUNT = 240
MAX_COUNT = 2000  # phones are 170-0871-xxxx: 4 parties a case, 5000 numbers a court
CONCURRENCY = 4
SERIAL_BASE = 8001
HTTP_TIMEOUT = 60.0
RETRIES = 5  # a 503 (Temporal busy or not yet reached) is tried again
PARTY_CODE_WAIT = 30.0  # seconds to wait for the filing SMS that gives an applicant its query code

BASIC = [(code, prefix) for code, _, prefix, level, _ in COURTS if level == "basic"]

# --- generated people, companies and cases (no real person: names are drawn at random) -----------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严覃武戴孔汤字杞普"
)
MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆亮成建文志国云龙海峰东林永祥家荣德旭"
FEMALE = "芳娜敏静丽艳娟霞秀玲桂英梅琳雪燕红兰萍颖洁倩婷慧莉琴云凤佳玉丹晓彤月蓉欣怡"
FIRMS = ("滇润", "春城", "金马", "碧鸡", "翠湖", "盘江", "云岭", "滇池", "五华", "螺峰", "宏泰", "鼎盛", "瑞丰")
TRADES = ("商贸有限公司", "建筑工程有限公司", "餐饮管理有限公司", "物流有限公司", "房地产开发有限公司", "科技有限公司")
LENDERS = ("小额贷款有限公司", "融资担保有限公司")
ROADS = ("人民中路", "青年路", "东风西路", "北京路", "环城南路", "白塔路", "金碧路", "滇池路", "穿金路", "联盟路")
DISTRICTS = {"YN0102": "昆明市五华区", "YN0103": "昆明市盘龙区"}
REGIONS = ("530102", "530103", "530111", "530112", "530114", "530181", "532301", "530402", "510104", "430102")
# cause, amount range (yuan), applicant is a company
CAUSES = (
    ("民间借贷纠纷", (20_000, 600_000), False),
    ("借款合同纠纷", (50_000, 2_000_000), True),
    ("买卖合同纠纷", (10_000, 900_000), True),
    ("劳动争议", (8_000, 90_000), False),
    ("追索劳动报酬纠纷", (5_000, 60_000), False),
    ("房屋租赁合同纠纷", (10_000, 200_000), False),
    ("建设工程施工合同纠纷", (100_000, 3_000_000), True),
    ("机动车交通事故责任纠纷", (20_000, 400_000), False),
    ("物业服务合同纠纷", (2_000, 20_000), True),
    ("离婚后财产纠纷", (30_000, 500_000), False),
    ("劳务合同纠纷", (6_000, 80_000), False),
)


@dataclass
class Person:
    name: str
    id_number: str
    company: bool = False


def _person(rng: random.Random) -> Person:
    male = rng.random() < 0.55
    given = MALE if male else FEMALE
    name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    seq = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{seq:03d}"
    return Person(name, first17 + mod11_check(first17))


def _company(rng: random.Random, trades: tuple[str, ...] = TRADES) -> Person:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + rng.choice(REGIONS[:6]) + "".join(rng.choice(chars) for _ in range(9))
    return Person("昆明" + rng.choice(FIRMS) + rng.choice(trades), first17 + credit_code_check(first17), True)


def _address(rng: random.Random, court: str) -> str:
    return f"{DISTRICTS[court]}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"


def _amount(rng: random.Random, low: int, high: int) -> int:
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high))), -2))


# --- the plan: which state each demo case ends in ---------------------------------------------------------------

# scenario, weight (of 100). The first cases of a run take one of each, so even a handful covers every state.
SCENARIOS: tuple[tuple[str, float], ...] = (
    ("new", 9),  # filed days ago, first measures: on time
    ("unassigned", 3),  # filed without a handler: the bureau chief's 7-day assignment clock
    ("progress", 13),  # months in, feedback given, the applicant's reply on some
    ("due_soon", 6),  # the execution term ends within days: the bureau chief is warned
    ("extension", 5),  # an extension waits for the president
    ("extension_approved", 2),  # an extension approved: the term moved
    ("overdue", 13),  # past the term: escalated to the president and the discipline head
    ("messaged", 4),  # a party's message, answered on some
    ("complained", 2),  # a complaint to the discipline head
    ("stayed", 7),  # 中止执行: the clocks stand still
    ("closed_paid", 11),  # 执行完毕
    ("closed_other", 5),  # 终结执行, 不予执行, 驳回申请
    ("zhongben", 8),  # 终本 with the five conditions met: a 6-monthly inquiry is due
    ("zhongben_followup", 4),  # 终本, and the first follow-up inquiry already made
    ("zb_exception", 3),  # 终本 missing a condition: the bureau chief's approval is pending
    ("zb_exception_approved", 2),  # … approved, and the case closed by 终本
    ("restored", 2),  # 终本, then restored as a 执恢 case
)


def plan(count: int) -> list[str]:
    """The scenario of each demo case by index: one of each first, then by weight, deterministically mixed."""
    first = [name for name, _ in SCENARIOS][:count]
    rest = count - len(first)
    if rest <= 0:
        return first
    total = sum(w for _, w in SCENARIOS)
    shares = [(name, rest * w / total) for name, w in SCENARIOS]
    counts = {name: int(s) for name, s in shares}
    for name, _ in sorted(shares, key=lambda x: x[1] - int(x[1]), reverse=True)[: rest - sum(counts.values())]:
        counts[name] += 1
    more = [name for name, _ in SCENARIOS for _ in range(counts[name])]
    random.Random(11).shuffle(more)
    return first + more


def case_slot(index: int) -> tuple[str, str, int, int]:
    """(court code, case-number prefix, court index 0/1, serial) of the index-th demo case: courts alternate."""
    ci = index % len(BASIC)
    code, prefix = BASIC[ci]
    return code, prefix, ci, SERIAL_BASE + index // len(BASIC)


_DEMO_NUMBER = re.compile(r"^（\d{4}）(.+?)执(\d+)号$")


async def existing_slots(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[str, int]]:
    """(court, serial) of the demo-range 执 cases already filed: a second run files them not again."""
    async with sessions() as s:
        rows = await s.execute(
            select(Case.court_code, Case.case_number).where(Case.court_code.in_([c for c, _ in BASIC]))
        )
        found = set()
        for court, number in rows:
            m = _DEMO_NUMBER.match(number)
            if m and int(m.group(2)) >= SERIAL_BASE:
                found.add((court, int(m.group(2))))
        return found


# --- talking to the API -------------------------------------------------------------------------------------------


class DemoError(Exception):
    """A step the API refused; the message names the step, the status and the error kind, no party data."""


@dataclass
class Report:
    filed: Counter[str] = field(default_factory=Counter)  # scenario → cases filed
    failed: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    restored: int = 0
    cases: list[tuple[str, str]] = field(default_factory=list)  # (case id, scenario)
    seconds: float = 0.0


class Seeder:
    def __init__(self, http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.http = http
        self.sessions = sessions
        self.settings = settings
        self._tokens: dict[str, str] = {}
        self._login = asyncio.Lock()
        self.seconds: defaultdict[str, float] = defaultdict(
            float
        )  # time spent in the API per kind of step, for the log
        self.calls: Counter[str] = Counter()

    async def token(self, username: str) -> str:
        async with self._login:
            if username not in self._tokens:
                r = await self.http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
                if r.status_code != 200:
                    raise DemoError(f"login {username}: {r.status_code}")
                self._tokens[username] = r.json()["access_token"]
            return self._tokens[username]

    async def call(
        self, step: str, method: str, url: str, *, user: str | None = None, bearer: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        headers = dict(kw.pop("headers", {}))
        headers["Authorization"] = f"Bearer {bearer or await self.token(user or '')}"
        started = time.monotonic()
        for attempt in range(RETRIES):
            r = await self.http.request(method, url, headers=headers, timeout=HTTP_TIMEOUT, **kw)
            if r.status_code not in (502, 503, 504) or attempt == RETRIES - 1:
                break
            await asyncio.sleep(2 + 2 * attempt)
        self.seconds[step.split(" ")[0]] += time.monotonic() - started
        self.calls[step.split(" ")[0]] += 1
        if r.status_code not in (200, 201):
            kind = r.json().get("error", "") if r.headers.get("content-type", "").startswith("application/json") else ""
            raise DemoError(f"{step}: {r.status_code} {kind}")
        return dict(r.json())

    async def party_token(self, case_id: str, role: str = "applicant") -> str:
        """The applicant's portal token, as the portal's login issues it, once the filing SMS gave it a code."""
        deadline = time.monotonic() + PARTY_CODE_WAIT
        while True:
            async with self.sessions() as s:
                party = await s.scalar(
                    select(Party).where(Party.case_id == case_id, Party.role == role).order_by(Party.id).limit(1)
                )
                if party is not None and party.query_code_hash:
                    return issue_party_token(party, secret=self.settings.secret_key)
            if time.monotonic() > deadline:
                raise DemoError("party token: no query code yet")
            await asyncio.sleep(0.5)


class DemoCase:
    """One demo case: its generated data, its staff, and the steps of its scenario through the API."""

    def __init__(self, seeder: Seeder, index: int, scenario: str, occurrence: int, today: date) -> None:
        self.s = seeder
        self.scenario = scenario
        self.k = occurrence  # the k-th case of its scenario: the first has every feature of it
        self.rng = random.Random(f"yangguang-demo-{index}")
        self.court, self.prefix, ci, self.serial = case_slot(index)
        suffix = "" if ci == 0 else str(ci + 1)
        self.user = {
            r: r + suffix for r in ("registrar", "handler", "clerk", "bureau_chief", "president", "discipline")
        }
        self.phone_base = ci * 5000 + (self.serial - SERIAL_BASE) * 4
        self.today = today
        self.now = datetime.now(UTC)
        self.case_id = ""
        self.origin = ""  # the demo case filed first (a restoration goes on with the 执恢 case it files)
        self.filed_on = today
        self.step = 0
        self.body: dict[str, Any] = {}

    # -- time ------------------------------------------------------------------------------------------------

    def day(self, offset: int) -> date:
        """A working day ``offset`` days after filing (a weekend moves to Monday), never after today."""
        d = self.filed_on + timedelta(days=offset)
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return min(d, self.today)

    def at(self, offset: int) -> datetime:
        """An office-hours instant of that day, never later than a few minutes ago."""
        d = self.day(offset)
        t = datetime(d.year, d.month, d.day, self.rng.randrange(9, 17), self.rng.choice((0, 10, 20, 30, 40, 50)))
        return min(t.replace(tzinfo=BEIJING), (datetime.now(UTC) - timedelta(minutes=5)).astimezone(BEIJING))

    # -- filing ----------------------------------------------------------------------------------------------

    def _phone(self, k: int) -> str:
        return f"1700871{self.phone_base + k:04d}"

    def case_body(self, filed_on: date, *, assigned: bool = True, has_property: bool = True) -> dict[str, Any]:
        rng = self.rng
        cause, (low, high), company = rng.choice(CAUSES)
        applicant = _company(rng, LENDERS if cause == "借款合同纠纷" else TRADES) if company else _person(rng)
        applicants = [
            {
                "name": applicant.name,
                "id_number": applicant.id_number,
                "phone": self._phone(0),
                "eservice_consent": True,
            }
        ]
        if not company and rng.random() < 0.12:  # spouses or co-workers applying together
            other = _person(rng)
            applicants.append({"name": other.name, "id_number": other.id_number, "phone": self._phone(1)})
        agents = []
        if company or rng.random() < 0.25:
            lawyer = _person(rng)
            agents.append({"name": lawyer.name, "id_number": lawyer.id_number, "phone": self._phone(2)})
        respondents = []
        for _ in range(1 if rng.random() < 0.8 else 2):
            r = _company(rng) if cause in ("买卖合同纠纷", "建设工程施工合同纠纷", "劳动争议") else _person(rng)
            respondents.append({"name": r.name, "id_number": r.id_number, "address": _address(rng, self.court)})
        return {
            "case_number": f"（{filed_on.year}）{self.prefix}执{self.serial}号",
            "court_code": self.court,
            "cause": cause,
            "amount": f"{_amount(rng, low, high)}.00",
            "filed_on": filed_on.isoformat(),
            "has_property": has_property,
            "handler": self.user["handler"] if assigned else None,
            "clerk": self.user["clerk"] if assigned else None,
            "applicants": applicants,
            "agents": agents,
            "respondents": respondents,
        }

    async def file(self, age_days: int, *, exact: bool = False, **kw: Any) -> None:
        """File it ``age_days`` ago (on the working day before, unless ``exact``: a term ending on a given day)."""
        self.filed_on = self.today - timedelta(days=age_days)
        while self.filed_on.weekday() >= 5 and not exact:
            self.filed_on -= timedelta(days=1)
        self.body = self.case_body(self.filed_on, **kw)
        out = await self.s.call("filing", "POST", "/api/cases", user=self.user["registrar"], json=self.body)
        self.case_id = self.origin = out["case_id"]

    def file_term_due_in(self, days: int) -> int:
        """The age (days) that makes the 6-month execution term end ``days`` from today."""
        filed = add_months(self.today, -6) + timedelta(days=days)
        return (self.today - filed).days

    # -- steps -----------------------------------------------------------------------------------------------

    async def node(
        self, type_: str, offset: int | datetime, summary: str = "", *, user: str = "handler", **fields: Any
    ) -> str:
        self.step += 1
        occurred = offset if isinstance(offset, datetime) else self.at(offset)
        body = {"type": type_, "occurred_at": occurred.isoformat(), "summary": summary, **fields}
        out = await self.s.call(
            f"node {type_}",
            "POST",
            f"/api/cases/{self.case_id}/nodes",
            user=self.user[user],
            json=body,
            headers={"Idempotency-Key": f"demo-{self.court}-{self.serial}-{self.step}"},
        )
        return str(out["node_id"])

    async def first_measures(self, *, inquiry: bool = True) -> None:
        await self.node("notice_issued", 2, "向被执行人发出执行通知书、报告财产令", user="clerk")
        if inquiry:
            await self.node(
                "network_inquiry",
                self.rng.randrange(3, 12),
                "通过总对总网络查控系统查询被执行人名下存款、车辆、不动产等财产",
            )

    async def measures(self, start: int) -> None:
        """Some of the usual measures after the first inquiry, within the case's age."""
        rng = self.rng
        choices = [
            ("freeze", "冻结被执行人名下银行存款"),
            ("seizure", "查封被执行人名下不动产一处"),
            ("field_inquiry", "赴被执行人住所地及经营场所实地调查财产状况"),
            ("consumption_restriction", "对被执行人采取限制高消费措施"),
            ("deduction", "扣划被执行人银行存款"),
            ("distraint", "扣押被执行人名下小型轿车一辆"),
        ]
        for i, (code, text) in enumerate(rng.sample(choices, rng.randrange(1, 4))):
            await self.node(code, start + 6 * i + rng.randrange(3), text)

    def checkpoints(self) -> int:
        """How many progress feedbacks are due by now: at 1 month, 6 months, then every 3 months (seed 002 第五条)."""
        months = (self.today.year - self.filed_on.year) * 12 + self.today.month - self.filed_on.month
        months -= self.today.day < self.filed_on.day
        return 0 if months < 1 else 1 if months < 6 else 2 + (months - 6) // 3

    async def feedbacks(self, *, leave: int = 0) -> None:
        """Give the feedbacks due by now, but the last ``leave`` (still owed: overdue)."""
        for _ in range(self.checkpoints() - leave):
            await self.feedback(reply=False)

    async def feedback(self, *, reply: bool) -> None:
        self.step += 1
        out = await self.s.call(
            "feedback",
            "POST",
            f"/api/cases/{self.case_id}/feedback",
            user=self.user["handler"],
            json={
                "measures": "已通过网络查控系统查询被执行人财产，冻结其名下银行存款，并对其采取限制高消费措施。",
                "next_steps": "继续查找被执行人可供执行的财产，视情况对查封财产启动评估拍卖程序。",
                "applicant_tasks": "如发现被执行人的财产线索，请及时向承办法官提供。",
            },
            headers={"Idempotency-Key": f"demo-{self.court}-{self.serial}-{self.step}"},
        )
        if reply:
            token = await self.s.party_token(self.case_id)
            await self.s.call(
                "feedback reply",
                "POST",
                f"/api/portal/feedback/{out['feedback_id']}/reply",
                bearer=token,
                json={"text": self.rng.choice(REPLIES)},
            )

    async def message(self, kind: str, *, answered: bool) -> None:
        token = await self.s.party_token(self.case_id)
        text = self.rng.choice(MESSAGES if kind == "message" else COMPLAINTS)
        out = await self.s.call(
            kind,
            "POST",
            "/api/portal/messages",
            bearer=token,
            json={"kind": kind, "text": text},
            headers={"Idempotency-Key": f"demo-{self.court}-{self.serial}-{kind}"},
        )
        if answered:
            who = self.user["handler"] if kind == "message" else self.user["discipline"]
            answer = "您反映的情况已收悉，本院将依法核查并及时告知处理结果。"
            await self.s.call(
                "reply",
                "POST",
                f"/api/cases/{self.case_id}/messages/{out['message_id']}/reply",
                user=who,
                json={"text": answer},
            )

    async def request(self, kind: str, body: dict[str, Any]) -> str:
        path = "extensions" if kind == "extension" else "zhongben-requests"
        out = await self.s.call(
            kind,
            "POST",
            f"/api/cases/{self.case_id}/{path}",
            user=self.user["handler"],
            json=body,
            headers={"Idempotency-Key": f"demo-{self.court}-{self.serial}-{kind}"},
        )
        return str(out["id"])

    async def decide(self, approval_id: str, decider: str, note: str) -> None:
        await self.s.call(
            "decision",
            "POST",
            f"/api/approvals/{approval_id}/decision",
            user=self.user[decider],
            json={"approve": True, "note": note},
        )

    async def zhongben_conditions(self, close_day: int, *, skip: str | None = None) -> None:
        """The nodes 终本 needs (终本规定 第一条; seed 003), all before ``close_day``; ``skip`` leaves one out."""
        steps = [
            ("notice_issued", 2, "向被执行人发出执行通知书、报告财产令", "clerk"),
            ("network_inquiry", 5, "总对总网络查控：被执行人名下无可供执行的存款、车辆、不动产", "handler"),
            ("consumption_restriction", 12, "对被执行人采取限制高消费措施", "handler"),
            ("field_inquiry", 25, "赴被执行人住所地实地调查，未发现可供执行的财产", "handler"),
            ("network_inquiry", close_day - 12, "结案前再次通过总对总网络查控系统查询，仍无可供执行的财产", "handler"),
        ]
        for code, offset, text, who in steps:
            if code != skip:
                await self.node(code, offset, text, user=who)
        if skip != "termination_interview":
            talk = self.at(close_day - 6)
            await self.node(
                "termination_interview",
                talk,
                "与申请执行人进行终本约谈，告知案件执行情况",
                scheduled_at=talk.isoformat(),
            )
        await self.node("ruling_issued", close_day - 3, "作出终结本次执行程序裁定书并送达双方当事人")

    async def close(self, day: int, mode: str, summary: str, **fields: Any) -> None:
        await self.node("closure", day, summary, mode=mode, **fields)


REPLIES = (
    "已收到反馈，感谢法官。请继续查找被执行人的财产。",
    "希望法院尽快对查封的房产进行评估拍卖。",
    "被执行人可能在外地有经营收入，请法院调查其微信、支付宝账户。",
    "对执行进展无异议。",
)
MESSAGES = (
    "法官您好，被执行人近期仍在其经营的门店营业，请法院前往调查。",
    "请问案件目前进展如何？被执行人名下的车辆是否已经查封？",
    "我方发现被执行人在另一家银行开有账户，现提交线索，请法院查询冻结。",
)
COMPLAINTS = ("立案已经几个月，多次留言无人答复，也不知道采取了什么措施，特此反映。",)


# --- the scenarios ------------------------------------------------------------------------------------------------


async def run_scenario(c: DemoCase) -> None:
    rng, k = c.rng, c.k
    sc = c.scenario
    if sc == "new":
        age = rng.randrange(1, 26)
        await c.file(age)
        await c.first_measures(inquiry=age > 4)
        if age > 14:
            await c.node("freeze", rng.randrange(8, 14), "冻结被执行人名下银行存款")
    elif sc == "unassigned":
        await c.file(rng.randrange(1, 6), assigned=False)
        if k % 2 == 1:  # the bureau chief assigns it through the console's form
            await c.s.call(
                "assignment",
                "POST",
                f"/api/cases/{c.case_id}/assignment",
                user=c.user["bureau_chief"],
                json={"handler": c.user["handler"], "clerk": c.user["clerk"]},
            )
    elif sc == "progress":
        age = rng.randrange(35, 160)
        await c.file(age)
        await c.first_measures()
        await c.measures(14)
        await c.feedback(reply=k % 3 != 2)
    elif sc == "due_soon":
        await c.file(c.file_term_due_in(rng.randrange(0, 2)), exact=True)  # the bureau chief warned already
        await c.first_measures()
        await c.measures(20)
        await c.feedback(reply=k % 2 == 0)
    elif sc in ("extension", "extension_approved"):
        await c.file(c.file_term_due_in(rng.randrange(8, 30)), exact=True)
        await c.first_measures()
        await c.measures(20)
        await c.node("appraisal", 100, "随机选定评估机构，委托评估查封的房产")
        await c.feedbacks()
        ext = await c.request(
            "extension", {"months": 3, "reason": "查封房产正在评估，拟进行网络拍卖，执行期限内无法执结。"}
        )
        if sc == "extension_approved":
            await c.decide(ext, "president", "同意延长执行期限三个月。")
    elif sc in ("overdue", "messaged", "complained"):
        age = rng.randrange(190, 420) if sc == "overdue" else rng.randrange(60, 300)
        await c.file(age, has_property=rng.random() < 0.8)
        await c.first_measures(inquiry=k % 4 != 1)  # some never even had the network inquiry
        await c.measures(20)
        if sc == "overdue" and k % 3 == 0:  # an auction ahead (a scheduled act: its entry clock)
            when = datetime.combine(c.today + timedelta(days=rng.randrange(10, 40)), datetime.min.time(), BEIJING)
            await c.node(
                "online_auction",
                age - 3,
                "在人民法院诉讼资产网发布网络拍卖公告",
                scheduled_at=(when + timedelta(hours=10)).isoformat(),
            )
        if sc == "overdue":
            await c.feedbacks(leave=k % 2)  # the term overdue, and on some a feedback too
        if sc == "messaged":
            await c.message("message", answered=k % 2 == 1)
        if sc == "complained":
            await c.message("message", answered=False)
            await c.message("complaint", answered=k % 2 == 1)
    elif sc == "stayed":
        age = rng.randrange(60, 300)
        await c.file(age)
        await c.first_measures()
        stay = rng.randrange(25, 50)
        await c.node("stay", stay, rng.choice(STAY_REASONS))
        await c.feedbacks()
        if k % 4 == 3 and age > stay + 40:
            await c.node("resumption", stay + 35, "中止执行的情形消失，恢复执行")
    elif sc == "closed_paid":
        age = rng.randrange(90, 420)
        await c.file(age)
        await c.first_measures()
        amount = c.body["amount"]
        if k % 3 == 1:
            await c.node("settlement", 30, "双方当事人达成执行和解协议，约定分期履行")
        else:
            await c.node("deduction", 20, "扣划被执行人银行存款")
        close = min(age - 2, rng.randrange(40, 170))
        await c.node("funds_received", close - 8, "执行款已到账", amount=amount)
        await c.node("funds_paid", close - 3, "执行款已划付申请执行人", amount=amount)
        await c.close(close, "执行完毕", "被执行人已全部履行，案件执行完毕", recovered_amount=amount)
    elif sc == "closed_other":
        age = rng.randrange(90, 420)
        await c.file(age)
        await c.first_measures()
        close = min(age - 2, rng.randrange(30, 150))
        mode, text = CLOSE_OTHER[k % len(CLOSE_OTHER)]
        await c.node("ruling_issued", close - 4, "作出执行裁定书")
        await c.close(close, mode, text)
    elif sc in ("zhongben", "zhongben_followup", "restored"):
        age = rng.randrange(130, 420)
        await c.file(age, has_property=False)
        close = min(age - 3, rng.randrange(100, 170))
        await c.zhongben_conditions(close)
        await c.close(close, "终本", "经穷尽财产调查措施，未发现可供执行的财产，裁定终结本次执行程序")
        if sc == "zhongben_followup":  # the 6-monthly inquiry (终本规定 第九条), made today
            await c.node("network_inquiry", datetime.now(UTC), "终本后定期查询：被执行人名下仍无可供执行的财产")
        if sc == "restored":
            await restore(c)
    elif sc in ("zb_exception", "zb_exception_approved"):
        age = rng.randrange(100, 300)
        await c.file(age, has_property=False)
        close = min(age - 2, rng.randrange(95, 130))
        await c.zhongben_conditions(close, skip="consumption_restriction")
        zb = await c.request(
            "zhongben", {"reason": "被执行人系外出务工人员，下落不明，无法对其采取限制高消费措施，申请终本。"}
        )
        if sc == "zb_exception_approved":
            await c.decide(zb, "bureau_chief", "同意终结本次执行程序。")
            await c.close(close + 1, "终本", "经执行局长批准，裁定终结本次执行程序", recovered_amount="0")
    else:
        raise ValueError(sc)


async def restore(c: DemoCase) -> None:
    """The applicant found property: the 终本 case is restored (恢复执行) as a new 执恢 case."""
    body = dict(c.body)
    filed = c.today - timedelta(days=c.rng.randrange(0, 3))
    body.update(
        case_number=f"（{filed.year}）{c.prefix}执恢{c.serial}号", filed_on=filed.isoformat(), has_property=True
    )
    out = await c.s.call("restore", "POST", f"/api/cases/{c.case_id}/restore", user=c.user["registrar"], json=body)
    c.case_id, c.filed_on = out["case_id"], filed
    await c.node("notice_issued", 0, "恢复执行：向被执行人发出执行通知书", user="clerk")


STAY_REASONS = (
    "被执行人进入破产程序，裁定中止执行",
    "案外人对执行标的提出异议，裁定中止执行",
    "申请执行人表示可以延期执行，裁定中止执行",
)
CLOSE_OTHER = (
    ("终结执行", "申请执行人撤回执行申请，裁定终结执行"),
    ("不予执行", "经审查，仲裁裁决依法不予执行"),
    ("驳回申请", "申请执行的法律文书不具有给付内容，裁定驳回执行申请"),
)


# --- the run ------------------------------------------------------------------------------------------------------


async def seed_cases(
    http: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    count: int = DEFAULT_COUNT,
    concurrency: int = CONCURRENCY,
) -> Report:
    """File and work ``count`` demo cases (at most ``concurrency`` at once); those filed already are skipped."""
    count = max(0, min(count, MAX_COUNT))
    report = Report()
    started = time.monotonic()
    have = await existing_slots(sessions)
    today = datetime.now(BEIJING).date()
    todo: list[tuple[int, str, int]] = []
    seen: Counter[str] = Counter()
    for index, scenario in enumerate(plan(count)):
        occurrence = seen[scenario]
        seen[scenario] += 1
        court, _, _, serial = case_slot(index)
        if (court, serial) in have:
            report.skipped += 1
        else:
            todo.append((index, scenario, occurrence))
    log.info("demo cases: %d to file, %d filed before", len(todo), report.skipped)
    if not todo:
        return report
    seeder = Seeder(http, sessions, settings)
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(index: int, scenario: str, occurrence: int) -> None:
        nonlocal done
        async with gate:
            c = DemoCase(seeder, index, scenario, occurrence, today)
            try:
                await run_scenario(c)
            except (DemoError, httpx.HTTPError) as e:
                report.failed[scenario] += 1
                log.warning("demo case %s执%d (%s) stopped at %s", c.prefix, c.serial, scenario, e)
            else:
                report.filed[scenario] += 1
                report.cases.append((c.origin, scenario))
                report.restored += scenario == "restored"
            done += 1
            if done % 20 == 0 or done == len(todo):
                log.info("demo cases: %d/%d done in %.0f s", done, len(todo), time.monotonic() - started)

    await asyncio.gather(*(one(*t) for t in todo))
    report.seconds = time.monotonic() - started
    log.info(
        "demo cases: API time per step: %s",
        ", ".join(f"{k} {n}×{seeder.seconds[k] / n:.2f} s" for k, n in seeder.calls.most_common()),
    )
    log.info(
        "demo cases ready in %.0f s: %s%s",
        report.seconds,
        ", ".join(f"{name} {report.filed[name]}" for name, _ in SCENARIOS if report.filed[name]),
        f"; failed: {dict(report.failed)}" if report.failed else "",
    )
    return report


async def portal_demo_login(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str, str, str] | None:
    """A way into the party portal on ``make run``: the query code goes out only by SMS and the outbox keeps it
    masked, so the first open demo case's applicant is given a fresh code, written to this log (development only,
    invented people). Returns (case number, ID number, phone, code), or None before any demo case exists."""
    async with sessions.begin() as s:
        row = (
            await s.execute(
                select(Case, Party)
                .join(Party, Party.case_id == Case.id)
                .where(
                    Case.status == "open",
                    Case.case_number.contains("执8"),
                    Party.role == "applicant",
                    Party.query_code_hash.is_not(None),
                    Party.phone.is_not(None),
                    Party.id_number.is_not(None),
                )
                .order_by(Case.case_number)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        case, party = row
        code = new_query_code()
        party.query_code_hash = await hashed(code)
        assert party.phone is not None and party.id_number is not None
        return case.case_number, party.id_number, party.phone, code


def requested_count() -> int:
    raw = os.environ.get("YG_DEMO_CASES", str(DEFAULT_COUNT))
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"YG_DEMO_CASES={raw!r}: expected a number of demo cases") from None


async def main(base_url: str, count: int) -> int:
    from db.engine import make_engine, make_sessions

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT) as http:
            sessions = make_sessions(engine)
            report = await seed_cases(http, sessions, settings, count=count)
            login = await portal_demo_login(sessions)
            if login is not None:
                log.info("门户演示登录 (party portal, /portal): 案号 %s，证件号码 %s，手机号码 %s，查询码 %s", *login)
    finally:
        await engine.dispose()
    return 1 if report.failed else 0


def _run(argv: list[str], run: Callable[[str, int], Coroutine[Any, Any, int]] = main) -> int:
    from core.settings import EnvironmentOnly
    from db.demo import refusal

    refused = refusal(EnvironmentOnly().environment)
    if refused:
        print(refused.replace("演示用户", "演示案件"), file=sys.stderr)
        return 2
    count = requested_count()
    if count <= 0:
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(run(argv[1] if len(argv) > 1 else "http://127.0.0.1:8000", count))


if __name__ == "__main__":
    sys.exit(_run(sys.argv))
