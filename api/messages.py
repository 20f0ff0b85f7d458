"""Parties' messages and complaints, and their replies (seed 001 第十条; seed 004 “天德”; API.md → Party portal).

A party writes: the message row and the outbox rows of the SMS to whoever must answer it (the handler; for a
complaint the discipline inspection head, never the handler) are written in one transaction, then the case's
workflow hears of it through ``CASE_EVENT`` (it opens the reply clock the ladder watches, and sends the queued
SMS in its notices lane). The handler (or the discipline head) replies: the reply and the party's SMS in one
transaction, then ``CASE_EVENT`` ``reply`` meets the clock.

As with filing ("no orphan filing", api/filing.py), the row is committed before the workflow is asked: when Temporal
cannot be reached the request answers 503, a retry with the same Idempotency-Key finishes the job (the row is
found by its key, the update id derives from the message), and every API process announces what no one retried
(``announce_pending``, a round of api/announcer.py). The update's key makes a repeat a no-op in the workflow, and
the outbox's unique (case, reason, recipient) key sends nothing twice."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.transitions import _recipients as assignees
from api.access import ROLE_NAMES, sees_court, visible_case
from api.idempotency import check_key
from api.portal_auth import PortalUser
from api.schemas import MessageInboxItem, Text
from api.supervision import SUPERVISORS
from api.updates import send_case_event
from core.settings import Settings
from db import queries
from db.models import Case, MessageAttachment, ObligationRow, Party, PartyMessage, SmsMessage, Staff
from domain import guard
from domain.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unavailable, YgError
from domain.messages import KIND_NAMES, MAX_PER_DAY, MAX_TEXT, MESSAGE_REASON, REPLY_REASON, MessageKind
from domain.models import CaseEventInput, Notice
from domain.portal import portal_link
from domain.rules import RuleSet, rule_set
from domain.sms import party_message_alert, reply_message

log = logging.getLogger(__name__)

PARTY_ROLE_NAMES = {"applicant": "申请执行人", "agent": "委托代理人", "respondent": "被执行人"}
UNIT_NAMES = {"working_days": "个工作日", "days": "日", "months": "个月"}
RATE_WINDOW = timedelta(hours=24)
# How often each API process looks for messages and replies the workflow has not heard of, and how old they must
# be (their own request may still be announcing them), as for filing.
ANNOUNCE_INTERVAL = timedelta(seconds=30)
ANNOUNCE_GRACE = timedelta(seconds=60)
ANNOUNCE_BATCH = 50


# ---------------------------------------------------------------- bodies


class MessageIn(BaseModel):
    """A party's message to the handler, or complaint to the discipline inspection group (驻院纪检监察组)."""

    kind: MessageKind = Field(description="message 留言（致承办人）| complaint 投诉（致驻院纪检监察组）")
    text: Text = Field(min_length=1, max_length=MAX_TEXT, description="内容")


class ReplyIn(BaseModel):
    text: Text = Field(min_length=1, max_length=MAX_TEXT, description="答复内容")


class MessageCreated(BaseModel):
    message_id: str


class AttachmentOut(BaseModel):
    attachment_id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageOut(BaseModel):
    """A message with its reply (API.md fixes the first six fields)."""

    message_id: str
    kind: MessageKind
    text: str
    created_at: datetime
    reply: str | None
    replied_at: datetime | None
    kind_name: str  # 留言 | 投诉
    written_by: str  # the party's role: 申请执行人 …
    replied_by: str | None  # the staff member's role and name
    reply_due_at: datetime | None  # the reply clock's due instant, once the workflow computed it
    attachments: list[AttachmentOut] = Field(default_factory=list)


class MessagesOut(BaseModel):
    items: list[MessageOut]


# ---------------------------------------------------------------- who sees what


def reads_complaints(staff: Staff, case: Case) -> bool:
    """Complaints are read by the discipline inspection head of the case's court or above it, not by the handler
    they may be about (seed 004: 直接与驻院纪检监察组对话)."""
    return staff.role == "discipline" and sees_court(staff, case.court.path)


def shows_clock(staff: Staff, rule: str) -> bool:
    """The reply clock of a complaint is seen by the leaders its ladder reaches, not by the handler or clerk."""
    return rule != "complaint" or staff.role in SUPERVISORS


async def hidden_sms(session: AsyncSession, *, staff: Staff, cases: Sequence[Case]) -> set[int]:
    """The outbox rows of these cases this staff member may not read: a complaint's alert and reply (the discipline
    head's alone), and the ladder's SMS about a complaint's reply clock (the leaders' alone) — each row, so that a
    rung batch's other SMS stay."""
    unread = [c.id for c in cases if not reads_complaints(staff, c)]
    reasons = await complaint_reasons(session, case_ids=unread)
    hidden: set[int] = set()
    if reasons:
        rows = await session.scalars(
            select(SmsMessage.id).where(SmsMessage.case_id.in_(unread), SmsMessage.reason.in_(reasons))
        )
        hidden |= set(rows)
    if unread and not shows_clock(staff, "complaint"):
        subjects = {rule_set(c.rule_version).rule("complaint").subject for c in cases if c.id in unread}
        rows = await session.scalars(
            select(SmsMessage.id).where(
                SmsMessage.case_id.in_(unread),
                SmsMessage.recipient.startswith("staff:"),
                or_(*[SmsMessage.body.contains(subject) for subject in subjects]),
            )
        )
        hidden |= set(rows)
    return hidden


async def complaint_reasons(session: AsyncSession, *, case_ids: Sequence[str]) -> set[str]:
    """The outbox reasons of complaints' SMS (the alert and the reply) of these cases: hidden from staff who do not
    read complaints, like the complaints themselves."""
    if not case_ids:
        return set()
    ids = await session.scalars(
        select(PartyMessage.id).where(PartyMessage.case_id.in_(case_ids), PartyMessage.kind == "complaint")
    )
    return {reason + i for i in ids for reason in (MESSAGE_REASON, REPLY_REASON)}


def reason_name(reason: str, complaints: Collection[str]) -> str | None:
    """The outbox reason of a message's SMS in words (留言/投诉/答复), or None for another reason."""
    if reason.startswith(MESSAGE_REASON):
        return "当事人投诉" if reason in complaints else "当事人留言"
    if reason.startswith(REPLY_REASON):
        return "投诉答复" if reason in complaints else "留言答复"
    return None


# ---------------------------------------------------------------- reading


async def _due(session: AsyncSession, messages: Sequence[PartyMessage]) -> dict[tuple[str, str], datetime]:
    if not messages:
        return {}
    ids = [f"{m.kind}:{m.id}" for m in messages]
    rows = await session.execute(
        select(ObligationRow.case_id, ObligationRow.obligation_id, ObligationRow.due_at).where(
            ObligationRow.case_id.in_({m.case_id for m in messages}), ObligationRow.obligation_id.in_(ids)
        )
    )
    return {(case_id, ob_id): due for case_id, ob_id, due in rows}


def _out(m: PartyMessage, due: dict[tuple[str, str], datetime]) -> MessageOut:
    replied_by = f"{ROLE_NAMES.get(m.replier.role, m.replier.role)} {m.replier.name}" if m.replier else None
    return MessageOut(
        message_id=m.id,
        kind=m.kind,
        text=m.text,
        created_at=m.created_at,
        reply=m.reply,
        replied_at=m.replied_at,
        kind_name=KIND_NAMES[m.kind],
        written_by=PARTY_ROLE_NAMES.get(m.party.role, m.party.role),
        replied_by=replied_by,
        reply_due_at=due.get((m.case_id, f"{m.kind}:{m.id}")),
        attachments=[
            AttachmentOut(
                attachment_id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256
            )
            for a in m.attachments
        ],
    )


async def messages_of_case(session: AsyncSession, *, staff: Staff, case_id: str) -> MessagesOut:
    """Every message of the case for staff who see it; complaints only for the discipline head (API.md)."""
    case = await visible_case(session, staff, case_id)
    query = select(PartyMessage).where(PartyMessage.case_id == case.id)
    if not reads_complaints(staff, case):
        query = query.where(PartyMessage.kind == "message")
    rows = list((await session.scalars(query.order_by(PartyMessage.created_at, PartyMessage.id))).unique())
    due = await _due(session, rows)
    return MessagesOut(items=[_out(m, due) for m in rows])


async def messages_of_party(session: AsyncSession, *, me: PortalUser) -> MessagesOut:
    """The party's own messages and complaints with their replies, newest first."""
    rows = list(
        (
            await session.scalars(
                select(PartyMessage)
                .where(PartyMessage.case_id == me.case.id, PartyMessage.party_id == me.party.id)
                .order_by(PartyMessage.created_at.desc(), PartyMessage.id)
            )
        ).unique()
    )
    due = await _due(session, rows)
    return MessagesOut(items=[_out(m, due) for m in rows])


async def inbox_items(session: AsyncSession, *, staff: Staff, include_replied: bool) -> list[MessageInboxItem]:
    """What waits for the caller's reply: messages of the cases they handle (the bureau chief's while a case has
    no handler), complaints of their court's cases for the discipline head."""
    mine = select(PartyMessage).join(Case, Case.id == PartyMessage.case_id)
    handled = (PartyMessage.kind == "message") & (Case.handler_id == staff.id)
    if staff.role == "bureau_chief":
        handled |= (PartyMessage.kind == "message") & Case.handler_id.is_(None) & (Case.court_code == staff.court_code)
    if staff.role == "discipline":
        handled |= (PartyMessage.kind == "complaint") & (Case.court_code == staff.court_code)
    mine = mine.where(handled)
    if not include_replied:
        mine = mine.where(PartyMessage.replied_at.is_(None))
    rows = list((await session.scalars(mine.order_by(PartyMessage.created_at.desc()).limit(500))).unique())
    due = await _due(session, rows)
    numbers = dict(
        (await session.execute(select(Case.id, Case.case_number).where(Case.id.in_({m.case_id for m in rows})))).all()
    )
    return [
        MessageInboxItem(
            kind=m.kind,
            message_id=m.id,
            case_id=m.case_id,
            case_number=numbers[m.case_id],
            kind_name=KIND_NAMES[m.kind],
            subject=f"当事人{KIND_NAMES[m.kind]}",
            text=m.text,
            written_by=PARTY_ROLE_NAMES.get(m.party.role, m.party.role),
            attachments=len(m.attachments),
            created_at=m.created_at,
            due_at=due.get((m.case_id, f"{m.kind}:{m.id}")),
            replied_at=m.replied_at,
        )
        for m in rows
    ]


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class Upload:
    """A file that came with a message, already in the file store under its hash."""

    sha256: str
    filename: str
    content_type: str
    size: int


def _fingerprint(body: MessageIn, files: Sequence[Upload]) -> str:
    canonical = json.dumps(
        {"kind": body.kind, "text": body.text, "files": sorted(f.sha256 for f in files)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _period(rules: RuleSet, kind: str) -> str:
    rule = rules.rule(kind)
    return f"{rule.length}{UNIT_NAMES.get(rule.unit, rule.unit)}"


async def _by_key(session: AsyncSession, *, party_id: int, key: str) -> PartyMessage | None:
    return await session.scalar(
        select(PartyMessage).where(PartyMessage.party_id == party_id, PartyMessage.request_key == key)
    )


def _repeat(found: PartyMessage, request_hash: str, key: str) -> None:
    if found.request_hash != request_hash:
        raise Conflict(
            f"Idempotency-Key“{key}”已用于内容不同的另一条留言，未作任何更改；新的留言请使用新的 Idempotency-Key"
            " (this key was sent with another body)",
            kind="IdempotencyKeyReused",
        )


async def write_message(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    *,
    me: PortalUser,
    body: MessageIn,
    files: Sequence[Upload] = (),
    key: str | None = None,
) -> tuple[str, bool]:
    """Store the message with its SMS, then tell the case's workflow; return its id and whether this request wrote
    it (a repeat of the key with the same body returns the first, finishing what a 503 left undone)."""
    if not body.text.strip():
        raise InvalidInput("请填写内容 (text is blank)", kind="MissingField")
    key = check_key(key) if key else str(uuid.uuid4())
    request_hash = _fingerprint(body, files)
    party_id = me.party.id  # read now: a rollback below expires the loaded rows
    found = await _by_key(session, party_id=party_id, key=key)
    if found is not None:
        _repeat(found, request_hash, key)
        await announce(session, client, found)
        return found.id, False
    case = me.case
    rules = rule_set(case.rule_version)
    guard.check_event(rules, await queries.case_view(session, case=case, rules=rules), event=body.kind)
    await _check_rate(session, me.party)
    now = datetime.now(UTC)
    message = PartyMessage(
        id=str(uuid.uuid4()),
        case_id=case.id,
        kind=body.kind,
        party_id=me.party.id,
        text=body.text.strip(),
        request_key=key,
        request_hash=request_hash,
        created_at=now,
    )
    message.attachments = [
        MessageAttachment(sha256=f.sha256, filename=f.filename, content_type=f.content_type, size=f.size) for f in files
    ]
    session.add(message)
    alert = party_message_alert(
        case.court.name, case_number=case.case_number, kind_name=KIND_NAMES[body.kind], period=_period(rules, body.kind)
    )
    for staff in await assignees(session, case, "remind_open", rules.rule(body.kind).assignee):
        if staff.mobile:  # no office mobile: the inbox still shows it
            session.add(
                SmsMessage(
                    case_id=case.id,
                    reason=MESSAGE_REASON + message.id,
                    recipient=f"staff:{staff.id}",
                    to=staff.mobile,
                    body=alert,
                    status="pending",
                    provider=settings.sms_provider,
                    created_at=now,
                )
            )
    try:
        await session.commit()
    except IntegrityError:
        # The same key sent at the same moment: that request wrote it, this one is its repeat.
        await session.rollback()
        found = await _by_key(session, party_id=party_id, key=key)
        if found is None:
            raise
        _repeat(found, request_hash, key)
        await announce(session, client, found)
        return found.id, False
    await announce(session, client, message, refused=_withdraw)
    return message.id, True


async def _check_rate(session: AsyncSession, party: Party) -> None:
    """At most MAX_PER_DAY messages and complaints from one party in 24 hours: a flood is refused, 429. The party's
    lock (PostgreSQL; SQLite has one writer) is held until the message is committed, so messages sent at once are
    counted one after the other."""
    await queries.lock_login_keys(session, keys=[hashlib.sha256(f"messages:party:{party.id}".encode()).hexdigest()])
    since = datetime.now(UTC) - RATE_WINDOW
    sent = await session.scalar(
        select(func.count())
        .select_from(PartyMessage)
        .where(PartyMessage.party_id == party.id, PartyMessage.created_at > since)
    )
    if (sent or 0) >= MAX_PER_DAY:
        oldest = await session.scalar(
            select(func.min(PartyMessage.created_at)).where(
                PartyMessage.party_id == party.id, PartyMessage.created_at > since
            )
        )
        wait = int(((oldest or since) + RATE_WINDOW - datetime.now(UTC)).total_seconds()) + 1
        raise TooManyAttempts(
            f"24小时内最多可提交{MAX_PER_DAY}条留言或投诉，请稍后再提交；紧急事项请致电承办人 (too many messages)",
            retry_after=max(wait, 1),
            kind="TooManyMessages",
        )


async def _withdraw(session: AsyncSession, message: PartyMessage) -> None:
    """The workflow refused the message (the case closed meanwhile): it and its SMS are removed, nothing is sent."""
    await session.execute(delete(SmsMessage).where(SmsMessage.reason == MESSAGE_REASON + message.id))
    await session.execute(delete(MessageAttachment).where(MessageAttachment.message_id == message.id))
    await session.execute(delete(PartyMessage).where(PartyMessage.id == message.id))
    await session.commit()


async def announce(
    session: AsyncSession,
    client: Client,
    message: PartyMessage,
    *,
    refused: Callable[[AsyncSession, PartyMessage], Awaitable[None]] | None = None,
) -> None:
    """Tell the case's workflow of a message not yet announced (its reply clock opens, its SMS goes out)."""
    if message.delivered_at is not None:
        return
    reason = MESSAGE_REASON + message.id
    await _send_event(
        session,
        client,
        message,
        CaseEventInput(event=message.kind, ref=message.id, key=reason, notice=Notice(kind="deliver", reason=reason)),
        refused=None if refused is None else lambda: refused(session, message),
    )
    await session.execute(
        update(PartyMessage)
        .where(PartyMessage.id == message.id, PartyMessage.delivered_at.is_(None))
        .values(delivered_at=datetime.now(UTC))
    )
    await session.commit()


async def announce_reply(session: AsyncSession, client: Client, message: PartyMessage) -> None:
    """Tell the case's workflow of a reply not yet announced (the clock is met, the party's SMS goes out)."""
    if message.replied_at is None or message.reply_delivered_at is not None:
        return
    reason = REPLY_REASON + message.id
    await _send_event(
        session,
        client,
        message,
        CaseEventInput(event="reply", ref=message.id, key=reason, notice=Notice(kind="deliver", reason=reason)),
    )
    await session.execute(
        update(PartyMessage)
        .where(PartyMessage.id == message.id, PartyMessage.reply_delivered_at.is_(None))
        .values(reply_delivered_at=datetime.now(UTC))
    )
    await session.commit()


def _send_event(
    session: AsyncSession,
    client: Client,
    message: PartyMessage,
    event: CaseEventInput,
    *,
    refused: Callable[[], Awaitable[None]] | None = None,
) -> Awaitable[None]:
    return send_case_event(
        session,
        client,
        message.case_id,
        event,
        failed="留言未能送达",
        ended="案件流程已结束，不能再留言",
        refused=refused,
    )


async def reply(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    *,
    staff: Staff,
    case_id: str,
    message_id: str,
    body: ReplyIn,
) -> tuple[MessageOut, bool]:
    """The handler answers a message, the discipline head a complaint, once; the party is told by SMS. The same text
    again from the same person is a repeat (200), finishing what a 503 left undone."""
    case = await visible_case(session, staff, case_id)
    message = await session.scalar(
        select(PartyMessage).where(PartyMessage.id == message_id, PartyMessage.case_id == case.id)
    )
    if message is None or (message.kind == "complaint" and not reads_complaints(staff, case)):
        raise NotFound("没有这条留言 (message not found)", kind="MessageNotFound")
    text = body.text.strip()
    text_hash = hashlib.sha256(text.encode()).hexdigest()
    created = False
    if not (message.replied_by == staff.id and message.reply_hash == text_hash):
        rules = rule_set(case.rule_version)
        guard.check_reply(
            rules, kind=message.kind, by=_replier(staff, case), replied=message.replied_at is not None, text=text
        )
        guard.check_event(rules, await queries.case_view(session, case=case, rules=rules), event="reply")
        now = datetime.now(UTC)
        written = await session.execute(
            update(PartyMessage)
            .where(PartyMessage.id == message.id, PartyMessage.replied_at.is_(None))
            .values(reply=text, replied_by=staff.id, replied_at=now, reply_hash=text_hash)
        )
        if written.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            raise Conflict("已答复过，不能重复答复", kind="AlreadyReplied")
        party = message.party
        if party.phone:
            session.add(
                SmsMessage(
                    case_id=case.id,
                    reason=REPLY_REASON + message.id,
                    recipient=f"party:{party.id}",
                    to=party.phone,
                    body=reply_message(
                        case.court.name,
                        case_number=case.case_number,
                        kind_name=KIND_NAMES[message.kind],
                        portal_url=portal_link(settings.public_base_url, case.case_number)
                        if settings.public_base_url
                        else None,
                    ),
                    status="pending",
                    provider=settings.sms_provider,
                    created_at=now,
                )
            )
        await session.commit()
        await session.refresh(message)
        created = True
    await announce_reply(session, client, message)
    await session.refresh(message)
    due = await _due(session, [message])
    return _out(message, due), created


# ---------------------------------------------------------------- no message left unannounced


async def announce_pending(sessions: async_sessionmaker[AsyncSession], client: Client) -> int:
    """Announce every message and reply older than the grace period that the case's workflow has not heard of
    (its request answered 503 and was not retried); return how many."""
    cutoff = datetime.now(UTC) - ANNOUNCE_GRACE
    done = 0
    async with sessions() as s:
        waiting = list(
            (
                await s.scalars(
                    select(PartyMessage)
                    .where(
                        (PartyMessage.delivered_at.is_(None) & (PartyMessage.created_at <= cutoff))
                        | (PartyMessage.reply_delivered_at.is_(None) & (PartyMessage.replied_at <= cutoff))
                    )
                    .order_by(PartyMessage.created_at)
                    .limit(ANNOUNCE_BATCH)
                )
            ).unique()
        )
        for message in waiting:
            try:
                await announce(s, client, message, refused=_withdraw)
                await announce_reply(s, client, message)
            except Unavailable:
                raise
            except YgError as e:  # refused for good (withdrawn): nothing more to do for it
                log.info("message not announced: %s", e.kind, extra={"message_id": message.id})
                continue
            done += 1
    return done


# ---------------------------------------------------------------- the console's conversation section


def _replier(staff: Staff, case: Case) -> guard.Replier:
    return guard.Replier(
        role=staff.role,
        is_handler=staff.id == case.handler_id,
        case_has_handler=case.handler_id is not None,
        in_court=staff.court_code == case.court_code,
    )


async def messages_panel(session: AsyncSession, case: Case, staff: Staff) -> dict[str, object]:
    """The case page's conversations (case_messages.html): what this staff member may read, and a reply form on
    each unanswered message they answer (``guard.answers``)."""
    listed = await messages_of_case(session, staff=staff, case_id=case.id)
    rules = rule_set(case.rule_version)
    items = [
        {
            "m": m,
            "can_reply": m.reply is None and guard.answers(rules, kind=m.kind, by=_replier(staff, case)),
        }
        for m in listed.items
    ]
    return {"items": items, "complaints": reads_complaints(staff, case)}
