"""A case's parties over its life (issue 10 item 4): agents registered and dismissed, parties' details corrected.

- **Agents** (委托代理人, seed 002 第三条) are registered on an open case with their own query code by SMS, and
  dismissed (解除委托) at any time: the agent can no longer log in and hears nothing more of the case, every portal
  login of the case's parties ends at once (``Party.login_epoch``), and while the case is open the applicant it acted
  for gets a new query code by SMS (seed 002 第四条: 案件未结案前…解除委托关系的，应当及时更改查询验证码).
- **Corrections** of a party's phone, name or address are audited (who, when, old → new, why) and take effect for
  every later SMS (the outbox reads the number at send time, decision 8). A corrected phone of a party who holds a
  query code gets a new one at the new number: the first went to a number that was wrong (seed 000: placeholder,
  staff and shared numbers, undeliverable SMS), so whoever holds that number must not keep a way in.

Each change is one transaction: the parties, its audit rows (``party_changes``, unique per business key) and the
SMS rows it queues (unique per case, reason and recipient; the code is stored hashed on the party, and in the
outbox row only until it is sent). Then the case's workflow is told (``case_event`` with a ``deliver`` notice) and
sends them in its notices lane. A repeated request changes and sends nothing twice: the business key of a change is
derived from the case's state, and a repeat whose workflow was not reached (503) tells it then.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.access import keeps_parties, require_party_keeper, visible_case
from api.filing import _party, checked_phone
from api.schemas import PartyIn, Text
from api.updates import send_case_event
from core.settings import Settings
from db import queries
from db.models import Case, Party, PartyChange, SmsMessage, Staff
from domain import guard
from domain.errors import CaseClosed, Conflict, InvalidInput, NotFound, Unavailable, YgError
from domain.masking import mask_id_number
from domain.models import CaseEventInput, Notice
from domain.phones import mask_phone, normalise
from domain.portal import portal_link
from domain.rules import rule_set
from domain.secrets import hashed, new_query_code
from domain.sms import Signature, agent_code_message, new_code_message, redact_query_code

log = logging.getLogger(__name__)

MAX_PARTY_ID = 2**31 - 1
ROLE_NAMES = {"applicant": "申请执行人", "agent": "委托代理人", "respondent": "被执行人"}
FIELD_NAMES = {"phone": "手机号码", "name": "姓名或名称", "address": "地址"}
CHANGE_NAMES = {"agent_added": "登记委托代理人", "agent_dismissed": "解除委托", "corrected": "更正"}
# The event each kind of change sends the case's workflow (domain/rules.py → outside_events): no clock, its SMS.
EVENTS = {"agent_added": "agent_added", "agent_dismissed": "agent_dismissed", "corrected": "party_corrected"}
# A change whose request answered 503 (Temporal unreachable) and was not repeated: every API process tells its
# workflow later, as filing does for unstarted cases (api/filing.py) and messages for unannounced ones.
ANNOUNCE_INTERVAL = timedelta(seconds=30)
ANNOUNCE_GRACE = timedelta(seconds=60)
ANNOUNCE_BATCH = 50
DISMISSED_BECAUSE = "委托代理人已解除委托"
CORRECTED_BECAUSE = "您登记的手机号码已更正为本号码"


# ---------------------------------------------------------------- bodies and answers


class AgentIn(PartyIn):
    """An agent (委托代理人) as filing takes one, and the applicant it acts for (omitted: every applicant)."""

    principal_id: int | None = Field(
        default=None, ge=1, le=MAX_PARTY_ID, description="所代理的申请执行人（party_id）；不填时代理全部申请执行人"
    )


class CorrectionIn(BaseModel):
    """The fields to correct (omitted: unchanged) and why."""

    phone: Text | None = Field(default=None, max_length=32, description="更正后的手机号码")
    name: Text | None = Field(default=None, max_length=128, description="更正后的姓名或名称")
    address: Text | None = Field(default=None, max_length=256, description="更正后的地址")
    reason: Text = Field(min_length=1, max_length=500, description="更正原因")


class PartyOut(BaseModel):
    """A party as staff see it: ID number and phone masked."""

    party_id: int
    role: str
    role_name: str
    name: str
    id_number_masked: str | None
    phone_masked: str | None
    address: str | None
    principal_id: int | None
    dismissed_at: datetime | None
    has_query_code: bool


class PartyChangeOut(BaseModel):
    """One audited change: who, when, what, old → new (phones masked), why, and how many new query codes it sent."""

    party_id: int
    party_name: str
    kind: str
    kind_name: str
    field: str | None
    field_name: str | None
    old: str | None
    new: str | None
    reason: str
    by: str
    at: datetime
    codes_sent: int


class PartiesOut(BaseModel):
    items: list[PartyOut]


class PartyChangesOut(BaseModel):
    items: list[PartyChangeOut]


class PartyChangeResult(BaseModel):
    """The party after the change, the audit rows the change wrote (empty: nothing to change), and the new query
    codes it sent by SMS."""

    party: PartyOut
    changes: list[PartyChangeOut]
    codes_sent: int
    warnings: list[str] = Field(default_factory=list)


def party_out(p: Party) -> PartyOut:
    return PartyOut(
        party_id=p.id,
        role=p.role,
        role_name=ROLE_NAMES.get(p.role, p.role),
        name=p.name,
        id_number_masked=mask_id_number(p.id_number) if p.id_number else None,
        phone_masked=mask_phone(p.phone) if p.phone else None,
        address=p.address,
        principal_id=p.principal_id,
        dismissed_at=p.dismissed_at,
        has_query_code=bool(p.query_code_hash),
    )


def _shown(field: str, value: str | None) -> str | None:
    return mask_phone(value) if field == "phone" and value else value


def change_out(c: PartyChange, parties: dict[int, Party]) -> PartyChangeOut:
    party = parties.get(c.party_id)
    return PartyChangeOut(
        party_id=c.party_id,
        party_name=party.name if party else "",
        kind=c.kind,
        kind_name=CHANGE_NAMES.get(c.kind, c.kind),
        field=c.field or None,
        field_name=FIELD_NAMES.get(c.field) if c.field else None,
        old=_shown(c.field, c.old_value),
        new=_shown(c.field, c.new_value),
        reason=c.reason,
        by=c.by,
        at=c.at,
        codes_sent=c.codes_sent,
    )


# ---------------------------------------------------------------- reading


async def changes_of_case(session: AsyncSession, *, case_id: str) -> list[PartyChange]:
    rows = await session.scalars(
        select(PartyChange).where(PartyChange.case_id == case_id).order_by(PartyChange.at, PartyChange.id)
    )
    return list(rows.all())


async def list_parties(session: AsyncSession, *, staff: Staff, case_id: str) -> PartiesOut:
    case = await visible_case(session, staff, case_id)
    return PartiesOut(items=[party_out(p) for p in case.parties])


async def list_changes(session: AsyncSession, *, staff: Staff, case_id: str) -> PartyChangesOut:
    case = await visible_case(session, staff, case_id)
    parties = {p.id: p for p in case.parties}
    return PartyChangesOut(items=[change_out(c, parties) for c in await changes_of_case(session, case_id=case.id)])


# ---------------------------------------------------------------- changing


class _Change:
    """What one request changes, written in one transaction: audit rows, new query codes and their SMS."""

    def __init__(self, case: Case, *, staff: Staff, kind: str, key: str, settings: Settings) -> None:
        self.case, self.staff, self.kind, self.key = case, staff, kind, key
        self.staff_id = staff.id  # read now: a failed commit expires every loaded object
        self.provider, self.public_base_url = settings.sms_provider, settings.public_base_url
        self.at = datetime.now(UTC)
        self.rows: list[PartyChange] = []
        self.sms: list[SmsMessage] = []
        self.codes = 0

    def audit(
        self, party: Party, *, field: str = "", old: str | None = None, new: str | None = None, reason: str = ""
    ) -> None:
        row = PartyChange(
            case_id=self.case.id,
            party_id=party.id,
            key=self.key,
            kind=self.kind,
            field=field,
            old_value=old,
            new_value=new,
            reason=reason,
            by=self.staff.username,
            at=self.at,
        )
        self.rows.append(row)

    async def new_code(self, party: Party, *, because: str | None) -> None:
        """A new query code for ``party`` (its old one and logins with it end), queued by SMS to its number now."""
        assert party.phone
        code = new_query_code()
        party.query_code_hash = await hashed(code)
        sig = Signature(
            court_name=self.case.court.name,
            handler_name=self.case.handler.name if self.case.handler else None,
            handler_phone=self.case.handler.office_phone if self.case.handler else None,
        )
        link = portal_link(self.public_base_url, self.case.case_number) if self.public_base_url else None
        number = self.case.case_number
        body = (
            agent_code_message(sig, case_number=number, query_code=code, portal_url=link)
            if because is None
            else new_code_message(sig, case_number=number, query_code=code, because=because, portal_url=link)
        )
        self.codes += 1
        self.sms.append(
            SmsMessage(
                case_id=self.case.id,
                reason=self.key,
                recipient=f"party:{party.id}",
                to=party.phone,
                body=body,
                status="pending",
                provider=self.provider,
                created_at=self.at,
            )
        )

    async def commit(self, session: AsyncSession) -> bool:
        """Write it all at once; False when the same change was written meanwhile (its business key is taken)."""
        for row in self.rows:
            row.codes_sent = self.codes
            row.delivered_at = None if self.codes else self.at  # nothing to send: nothing to tell the workflow
        session.add_all([*self.rows, *self.sms])
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            session.expunge_all()  # expired by the rollback: the caller reads everything afresh
            self.staff = await session.get(Staff, self.staff_id) or self.staff
            return False
        log.info(
            "party change %s on case %s: %d rows, %d new query codes",
            self.kind,
            self.case.id,
            len(self.rows),
            self.codes,
        )  # no names, numbers or codes
        return True


async def _keeper_case(session: AsyncSession, staff: Staff, case_id: str) -> Case:
    case = await visible_case(session, staff, case_id)
    require_party_keeper(staff, case)
    return case


def _party_of(case: Case, party_id: int) -> Party:
    found = next((p for p in case.parties if p.id == party_id), None)
    if found is None:
        raise NotFound("本案没有这名当事人 (party not found)", kind="PartyNotFound")
    return found


async def _announce(session: AsyncSession, client: Client, case: Case, *, key: str, kind: str, ref: int) -> None:
    """Tell the case's workflow to send the SMS the change queued (its notices lane), once: the update id and the
    event key are the change's business key, and the change is marked told."""
    pending = await session.scalar(
        select(func.count())
        .select_from(PartyChange)
        .where(PartyChange.case_id == case.id, PartyChange.key == key, PartyChange.delivered_at.is_(None))
    )
    if not pending:
        return
    try:
        await send_case_event(
            session,
            client,
            case.id,
            CaseEventInput(event=EVENTS[kind], ref=str(ref), key=key, notice=Notice(kind="deliver", reason=key)),
            update_id=f"event-{case.id}-{key}",
            failed="查询码短信未能发出",
            ended="案件流程已结束，查询码短信未能发出",
        )
    except CaseClosed:
        # Closed between the change and this moment (its workflow refuses or has ended): the change stands, its SMS
        # can no longer go — failed, the code masked, so no clear code is left in the outbox.
        rows = await session.scalars(
            select(SmsMessage).where(
                SmsMessage.case_id == case.id, SmsMessage.reason == key, SmsMessage.status == "pending"
            )
        )
        for row in rows:
            row.status, row.error, row.body = "failed", "案件已结案，查询码短信未发出", redact_query_code(row.body)
        log.warning("party change on case %s not announced: the case closed", case.id)
    await session.execute(
        update(PartyChange)
        .where(PartyChange.case_id == case.id, PartyChange.key == key, PartyChange.delivered_at.is_(None))
        .values(delivered_at=datetime.now(UTC))
    )
    await session.commit()


async def announce_pending(sessions: async_sessionmaker[AsyncSession], client: Client) -> int:
    """Tell the workflows of the changes whose request answered 503 and was not repeated (older than the grace
    period, so a request still at work is left alone); returns how many were told."""
    cutoff = datetime.now(UTC) - ANNOUNCE_GRACE
    done = 0
    async with sessions() as s:
        waiting = (
            await s.execute(
                select(PartyChange.case_id, PartyChange.key, PartyChange.kind, PartyChange.party_id)
                .where(PartyChange.delivered_at.is_(None), PartyChange.at <= cutoff)
                .distinct()
                .limit(ANNOUNCE_BATCH)
            )
        ).all()
        for case_id, key, kind, party_id in waiting:
            case = await queries.case_by_id(s, case_id=case_id)
            assert case is not None
            try:
                await _announce(s, client, case, key=key, kind=kind, ref=party_id)
            except Unavailable:
                raise  # Temporal still unreachable: the next round tries again
            except YgError as e:  # refused for good: the next ones still go
                log.warning("party change on case %s not announced: %s", case_id, e.kind)
                continue
            done += 1
    return done


async def _result(session: AsyncSession, case: Case, party: Party, key: str | None) -> PartyChangeResult:
    await session.refresh(party)
    rows = [c for c in await changes_of_case(session, case_id=case.id) if key is not None and c.key == key]
    parties = {p.id: p for p in case.parties}
    return PartyChangeResult(
        party=party_out(party),
        changes=[change_out(c, parties) for c in rows],
        codes_sent=max((c.codes_sent for c in rows), default=0),
    )


def _identity(name: str, id_number: str | None, phone: str | None) -> str:
    """Who an agent is, for the business key of its registration: the ID number, else name and phone (hashed: the
    key is also the SMS's reason)."""
    who = id_number or f"{name}|{normalise(phone or '')}"
    return hashlib.sha256(who.encode()).hexdigest()[:16]


async def add_agent(
    session: AsyncSession,
    client: Client,
    *,
    staff: Staff,
    case_id: str,
    body: AgentIn,
    settings: Settings,
    again: bool = False,
) -> tuple[PartyChangeResult, bool]:
    """Register an agent with its own query code by SMS; the same agent again (same ID number, or name and phone,
    still acting) is a repeat: 200 with it, nothing sent twice. Returns the result and whether it was new."""
    case = await _keeper_case(session, staff, case_id)
    guard.check_agent_added(await queries.case_view(session, case=case, rules=rule_set(case.rule_version)))
    principal = None
    if body.principal_id is not None:
        principal = next((p for p in case.parties if p.id == body.principal_id and p.role == "applicant"), None)
        if principal is None:
            raise InvalidInput("所代理的当事人不是本案的申请执行人", kind="UnknownPrincipal")
    agents = [p for p in case.parties if p.role == "agent"]
    warnings: list[str] = []
    agent = await _party(session, body, "agent", len(agents) + 1, warnings)  # checked as filing checks an agent
    agent.principal_id = principal.id if principal else None
    identity = _identity(agent.name, agent.id_number, agent.phone)
    acting = next(
        (p for p in agents if p.dismissed_at is None and _identity(p.name, p.id_number, p.phone) == identity), None
    )
    if acting is not None:
        if (acting.name, acting.phone, acting.principal_id) != (agent.name, agent.phone, agent.principal_id):
            raise Conflict(
                f"委托代理人{acting.name}已经登记，本次填写的信息与登记的不同，未作更改；"
                "如需更正其手机号码或姓名，请使用“更正当事人信息”",
                kind="AgentAlreadyRegistered",
            )
        key = await _agent_key(session, case, acting)
        if key:
            await _announce(session, client, case, key=key, kind="agent_added", ref=acting.id)
        return await _result(session, case, acting, key), False
    # The key before anything is written: requests registering the same agent at once all take the same one, and
    # all but the first fail on it (then find the agent the first registered).
    registered = await session.scalar(
        select(func.count())
        .select_from(PartyChange)
        .where(PartyChange.case_id == case.id, PartyChange.key.startswith(f"agent:{identity}:"))
    )
    key = f"agent:{identity}:{(registered or 0) + 1}"
    case.parties.append(agent)
    await session.flush()  # its id, for the SMS's recipient and the audit
    change = _Change(case, staff=staff, kind="agent_added", key=key, settings=settings)
    change.audit(agent, new=agent.name)
    await change.new_code(agent, because=None)
    if not await change.commit(session):  # registered by a request at the same moment: that one is the answer
        if again:
            raise Conflict("委托代理人刚被他人登记，请刷新后核对", kind="ConcurrentChange")
        return await add_agent(
            session,
            client,
            staff=change.staff,
            case_id=case_id,
            body=body,
            settings=settings,
            again=True,
        )
    await _announce(session, client, case, key=key, kind="agent_added", ref=agent.id)
    result = await _result(session, case, agent, key)
    result.warnings = warnings
    return result, True


async def _agent_key(session: AsyncSession, case: Case, agent: Party) -> str | None:
    return await session.scalar(
        select(PartyChange.key).where(
            PartyChange.case_id == case.id, PartyChange.party_id == agent.id, PartyChange.kind == "agent_added"
        )
    )


def _principals(case: Case, agent: Party) -> list[Party]:
    """The applicants an agent acted for: its principal, or every applicant when it had none named."""
    applicants = [p for p in case.parties if p.role == "applicant" and p.phone]
    if agent.principal_id is not None:
        return [p for p in applicants if p.id == agent.principal_id]
    return applicants


async def dismiss_agent(
    session: AsyncSession,
    client: Client,
    *,
    staff: Staff,
    case_id: str,
    party_id: int,
    settings: Settings,
    reason: str = "",
) -> tuple[PartyChangeResult, bool]:
    """Dismiss an agent (解除委托): it cannot log in and hears nothing more, every portal login of the case's parties
    ends now, and while the case is open the applicants it acted for get new query codes by SMS (seed 002 第四条).
    Dismissing it again is a repeat (200): nothing changes, nothing is sent twice."""
    case = await _keeper_case(session, staff, case_id)
    agent = _party_of(case, party_id)
    guard.check_dismissal(role=agent.role)
    key = f"dismissal:{agent.id}"
    if agent.dismissed_at is None:
        renew = guard.renews_query_codes(await queries.case_view(session, case=case, rules=rule_set(case.rule_version)))
        change = _Change(case, staff=staff, kind="agent_dismissed", key=key, settings=settings)
        agent.dismissed_at = change.at
        agent.query_code_hash = None
        for p in case.parties:
            p.login_epoch += 1  # every token issued before now is refused (api/portal_auth.py)
        if renew:
            for applicant in _principals(case, agent):
                await change.new_code(applicant, because=DISMISSED_BECAUSE)
        change.audit(agent, old=agent.name, reason=reason)
        created = await change.commit(session)
        if not created:  # dismissed by a request at the same moment: that one did it
            case = await _keeper_case(session, change.staff, case_id)
            agent = _party_of(case, party_id)
    else:
        created = False
    await _announce(session, client, case, key=key, kind="agent_dismissed", ref=agent.id)
    return await _result(session, case, agent, key), created


async def correct_party(
    session: AsyncSession,
    client: Client,
    *,
    staff: Staff,
    case_id: str,
    party_id: int,
    body: CorrectionIn,
    settings: Settings,
    again: bool = False,
) -> tuple[PartyChangeResult, bool]:
    """Correct a party's phone, name or address, audited field by field; later SMS go to the corrected number, and a
    party holding a query code gets a new one there while the case is open. Values equal to the current ones are no
    change: a repeated correction answers 200 and changes nothing."""
    case = await _keeper_case(session, staff, case_id)
    party = _party_of(case, party_id)
    # Corrections of one party are judged one at a time: the row is locked (PostgreSQL; SQLite has one writer) and
    # read again, so a correction sent at the same moment sees the value the first one wrote and changes nothing.
    await session.execute(
        select(Party).where(Party.id == party.id).with_for_update().execution_options(populate_existing=True)
    )
    if party.dismissed_at is not None:
        raise Conflict("该委托代理人已解除委托，不再更正其信息", kind="AgentDismissed")
    label = f"{ROLE_NAMES.get(party.role, party.role)}（{party.name}）"
    reason = body.reason.strip()
    if not reason:
        raise InvalidInput("请填写更正原因", kind="MissingField")
    new: dict[str, str] = {}
    warnings: list[str] = []
    flag = party.phone_flag
    if body.phone is not None and body.phone.strip():
        phone, flag = await checked_phone(
            session, body.phone, label=label, name=party.name, id_number=party.id_number, warnings=warnings
        )
        if phone != party.phone:
            new["phone"] = phone
    if body.name is not None and body.name.strip() and body.name.strip() != party.name:
        new["name"] = body.name.strip()
    if body.address is not None and body.address.strip() and body.address.strip() != (party.address or ""):
        new["address"] = body.address.strip()
    if not new:
        return await _result(session, case, party, None), False
    corrections = await session.scalar(
        select(func.count(func.distinct(PartyChange.key))).where(
            PartyChange.case_id == case.id, PartyChange.party_id == party.id, PartyChange.kind == "corrected"
        )
    )
    key = f"correction:{party.id}:{(corrections or 0) + 1}"
    change = _Change(case, staff=staff, kind="corrected", key=key, settings=settings)
    for field, value in new.items():
        change.audit(party, field=field, old=getattr(party, field), new=value, reason=reason)
        setattr(party, field, value)
    if "phone" in new:
        party.phone_flag = flag
    renew = "phone" in new and bool(party.query_code_hash)  # an applicant, an agent, a respondent served online
    if renew and guard.renews_query_codes(
        await queries.case_view(session, case=case, rules=rule_set(case.rule_version))
    ):
        await change.new_code(party, because=CORRECTED_BECAUSE)
    if not await change.commit(session):  # corrected by a request at the same moment: judged again against it
        if again:
            raise Conflict("该当事人的信息刚被他人更正，请刷新后核对再提交", kind="ConcurrentChange")
        return await correct_party(
            session,
            client,
            staff=change.staff,
            case_id=case_id,
            party_id=party_id,
            body=body,
            settings=settings,
            again=True,
        )
    await _announce(session, client, case, key=key, kind="corrected", ref=party.id)
    result = await _result(session, case, party, key)
    result.warnings = warnings
    return result, True


async def panel_context(session: AsyncSession, case: Case, staff: Staff, **extra: Any) -> dict[str, Any]:
    """What api/templates/case_parties.html shows (the parties' card of the staff case page): the parties, the forms
    the caller may use, and the audit with the names of the staff who made each change."""
    changes = await changes_of_case(session, case_id=case.id)
    usernames = {c.by for c in changes}
    names: dict[str, str] = {}
    if usernames:
        rows = await session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(usernames)))
        names = {username: name for username, name in rows}
    parties = {p.id: p for p in case.parties}
    return {
        "parties": [party_out(p) for p in case.parties],
        "names": {p.id: p.name for p in case.parties},
        "shared": {p.id for p in case.parties if p.phone_flag == "shared_phone"},
        "changes": [change_out(c, parties).model_copy(update={"by": names.get(c.by, c.by)}) for c in changes],
        "keeper": keeps_parties(staff, case),
        "open": case.status != "closed",
        "applicants": [p for p in case.parties if p.role == "applicant"],
        "correctable": [p for p in case.parties if p.dismissed_at is None],
        "form": None,
        "error": None,
        "typed": {},  # what a refused form had typed, drawn again
        **extra,
    }
