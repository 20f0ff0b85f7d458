"""Small query functions: the session first, keyword arguments after; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from db.models import (
    CalendarAlert,
    CalendarAudit,
    Case,
    Court,
    HolidaySchedule,
    Node,
    ObligationRow,
    Party,
    RevokedToken,
    SmsMessage,
    Staff,
)
from domain.calendar import Calendar, ScheduledDay
from domain.clock import start_of_day
from domain.guard import CaseView
from domain.rules import RuleSet


async def staff_by_username(session: AsyncSession, *, username: str) -> Staff | None:
    return await session.scalar(select(Staff).where(Staff.username == username))


async def staff_of_live_token(session: AsyncSession, *, username: str, jti: str) -> Staff | None:
    """The staff member a token names, unless the token was ended by logout: one query on every request."""
    revoked = select(RevokedToken.jti).where(RevokedToken.jti == jti).exists()
    return await session.scalar(select(Staff).where(Staff.username == username, ~revoked))


async def court_by_code(session: AsyncSession, *, code: str) -> Court | None:
    return await session.get(Court, code)


async def courts(session: AsyncSession) -> Sequence[Court]:
    return (await session.scalars(select(Court).order_by(Court.path))).all()


async def case_by_id(session: AsyncSession, *, case_id: str, people: bool = True) -> Case | None:
    """The case with its court; ``people``: with its parties, handler and clerk too (otherwise reading them raises,
    for paths that need only the case's own columns, such as recording a node)."""
    if people:
        return await session.get(Case, case_id)
    lean = (raiseload(Case.parties), raiseload(Case.handler), raiseload(Case.clerk))
    return await session.scalar(select(Case).where(Case.id == case_id).options(*lean))


async def case_by_number(session: AsyncSession, *, case_number: str) -> Case | None:
    return await session.scalar(select(Case).where(Case.case_number == case_number))


async def nodes_of_case(session: AsyncSession, *, case_id: str) -> Sequence[Node]:
    return (await session.scalars(select(Node).where(Node.case_id == case_id).order_by(Node.seq))).all()


async def node_by_key(session: AsyncSession, *, case_id: str, idempotency_key: str) -> Node | None:
    return await session.scalar(select(Node).where(Node.case_id == case_id, Node.idempotency_key == idempotency_key))


async def obligations_of_case(session: AsyncSession, *, case_id: str) -> Sequence[ObligationRow]:
    query = select(ObligationRow).where(ObligationRow.case_id == case_id)
    return (await session.scalars(query.order_by(ObligationRow.opened_at, ObligationRow.id))).all()


async def sms_of_case(session: AsyncSession, *, case_id: str) -> Sequence[SmsMessage]:
    return (
        await session.scalars(select(SmsMessage).where(SmsMessage.case_id == case_id).order_by(SmsMessage.id))
    ).all()


async def staff_with_phone(session: AsyncSession, *, phone: str) -> Staff | None:
    """A court staff member whose own mobile or office number this is (seed 000: staff numbers entered for parties)."""
    return await session.scalar(select(Staff).where((Staff.mobile == phone) | (Staff.office_phone == phone)).limit(1))


async def other_applicant_with_phone(
    session: AsyncSession, *, phone: str, name: str, id_number: str | None
) -> Party | None:
    """An applicant of another case, a different person, already using this number (seed 000: shared numbers)."""
    rows = await session.scalars(select(Party).where(Party.phone == phone, Party.role.in_(("applicant", "agent"))))
    for p in rows:
        same_person = (id_number and p.id_number == id_number) or (not id_number and p.name == name)
        if not same_person:
            return p
    return None


async def cases_in_subtree(session: AsyncSession, *, court_path: str, limit: int = 200) -> Sequence[Case]:
    """The newest cases of a court and the courts below it."""
    return (
        await session.scalars(
            select(Case)
            .join(Court, Case.court_code == Court.code)
            .where(Court.path.startswith(court_path))
            .order_by(Case.created_at.desc())
            .limit(limit)
        )
    ).all()


# calendar


async def holiday_days(session: AsyncSession, *, year: int | None = None) -> Sequence[HolidaySchedule]:
    """The days administrators entered, of one year or of all years, in date order."""
    q = select(HolidaySchedule).order_by(HolidaySchedule.day)
    if year is not None:
        q = q.where(HolidaySchedule.year == year)
    return (await session.scalars(q)).all()


async def working_calendar(session: AsyncSession) -> Calendar:
    """Published data plus every schedule administrators entered (an entered year replaces a published one)."""
    return Calendar(ScheduledDay.of(r.day, r.kind, r.name) for r in await holiday_days(session))


async def calendar_audit(session: AsyncSession, *, year: int) -> Sequence[CalendarAudit]:
    return (
        await session.scalars(select(CalendarAudit).where(CalendarAudit.year == year).order_by(CalendarAudit.id))
    ).all()


async def calendar_alert(session: AsyncSession, *, year: int) -> CalendarAlert | None:
    return await session.get(CalendarAlert, year)


async def calendar_alerts(session: AsyncSession, *, open_only: bool = False) -> Sequence[CalendarAlert]:
    """Years a deadline needed without a holiday schedule; open ones first, then by year."""
    q = select(CalendarAlert).order_by(CalendarAlert.resolved_at.is_not(None), CalendarAlert.year)
    if open_only:
        q = q.where(CalendarAlert.resolved_at.is_(None))
    return (await session.scalars(q)).all()


# public lists
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from sqlalchemy import Row  # noqa: E402

from db.models import PublicListEntry  # noqa: E402

# What a served row joins from the case and its court: public data only, never the parties table.
# entry, case number, filed on, amount, court name, court code
PublicListRow = Row[PublicListEntry, str, date, Decimal, str, str]


async def respondents_of_case(session: AsyncSession, *, case_id: str) -> Sequence[Party]:
    return (
        await session.scalars(
            select(Party).where(Party.case_id == case_id, Party.role == "respondent").order_by(Party.id)
        )
    ).all()


async def public_entries_of_case(
    session: AsyncSession, *, case_id: str, lists: Sequence[str] | None = None
) -> Sequence[PublicListEntry]:
    """Every entry of a case, in any state; only in the given lists when ``lists`` is not None."""
    query = select(PublicListEntry).where(PublicListEntry.case_id == case_id)
    if lists is not None:
        query = query.where(PublicListEntry.list_name.in_(lists))
    return (await session.scalars(query.order_by(PublicListEntry.id))).all()


async def lists_showing_case(session: AsyncSession, *, case_id: str) -> list[str]:
    """The lists on which the public still sees the case: what GET /api/public/{list} would serve."""
    rows = await session.scalars(
        select(PublicListEntry.list_name)
        .where(PublicListEntry.case_id == case_id, PublicListEntry.status == "visible")
        .distinct()
    )
    return sorted(rows.all())


async def public_list_page(
    session: AsyncSession,
    *,
    list_name: str,
    court_path: str | None = None,
    search: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[Sequence[PublicListRow], int]:
    """Visible entries of one list, newest first, in a court and the courts below it, whose respondent's name or case
    number contains ``search`` (brackets typed half-width match the full-width ones of case numbers); and how many
    there are."""
    conditions = [PublicListEntry.list_name == list_name, PublicListEntry.status == "visible"]
    if court_path is not None:
        conditions.append(Court.path.startswith(court_path))
    if search:
        number = search.replace("(", "（").replace(")", "）")
        conditions.append(
            PublicListEntry.name.contains(search, autoescape=True) | Case.case_number.contains(number, autoescape=True)
        )
    joined = (
        select(PublicListEntry.id)
        .join(Case, PublicListEntry.case_id == Case.id)
        .join(Court, Case.court_code == Court.code)
        .where(*conditions)
    )
    total = await session.scalar(select(func.count()).select_from(joined.subquery()))
    rows = await session.execute(
        select(PublicListEntry, Case.case_number, Case.filed_on, Case.amount, Court.name, Court.code)
        .join(Case, PublicListEntry.case_id == Case.id)
        .join(Court, Case.court_code == Court.code)
        .where(*conditions)
        .order_by(PublicListEntry.since.desc(), PublicListEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), int(total or 0)


# feedback and portal
from datetime import datetime  # noqa: E402

from sqlalchemy import delete, update  # noqa: E402

from db.models import Feedback, PortalLoginFailure, StaffLoginFailure  # noqa: E402


async def feedback_of_case(session: AsyncSession, *, case_id: str) -> Sequence[Feedback]:
    """Every progress feedback of a case, oldest first."""
    query = select(Feedback).where(Feedback.case_id == case_id)
    return (await session.scalars(query.order_by(Feedback.submitted_at, Feedback.n))).all()


async def feedback_by_id(session: AsyncSession, *, case_id: str, feedback_id: str) -> Feedback | None:
    return await session.scalar(select(Feedback).where(Feedback.case_id == case_id, Feedback.id == feedback_id))


async def feedback_by_request(session: AsyncSession, *, case_id: str, request_id: str) -> Feedback | None:
    """The feedback a handler's Idempotency-Key already produced, if the workflow passed the key along."""
    return await session.scalar(
        select(Feedback).where(Feedback.case_id == case_id, Feedback.request_id == request_id).limit(1)
    )


async def last_feedback_at(session: AsyncSession, *, case_id: str) -> datetime | None:
    return await session.scalar(select(func.max(Feedback.submitted_at)).where(Feedback.case_id == case_id))


async def record_feedback_reply(
    session: AsyncSession, *, case_id: str, feedback_id: str, text: str, party_id: int, at: datetime
) -> bool:
    """Record the applicant's views once: False when someone already replied (a single conditional update)."""
    result = await session.execute(
        update(Feedback)
        .where(Feedback.case_id == case_id, Feedback.id == feedback_id, Feedback.reply.is_(None))
        .values(reply=text, replied_at=at, replied_by_party_id=party_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def disclosed_nodes_of_case(session: AsyncSession, *, case_id: str) -> Sequence[Node]:
    """The nodes parties may see (seed 001 第三条; non-disclosure approved under 第十三条 hides the rest)."""
    query = select(Node).where(Node.case_id == case_id, Node.disclose.is_(True))
    return (await session.scalars(query.order_by(Node.seq))).all()


# Failed logins: a party's (portal_login_failures) or a staff member's (staff_login_failures), by hashed key.
LoginFailureModel = type[PortalLoginFailure] | type[StaffLoginFailure]


async def add_login_attempts(
    session: AsyncSession, *, model: LoginFailureModel, keys: Sequence[str], at: datetime
) -> list[int]:
    """Record a pending attempt under each key; returns the rows' ids (the caller commits)."""
    rows = [model(key=key, at=at, pending=True) for key in keys]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def login_attempts_since(
    session: AsyncSession, *, model: LoginFailureModel, key: str, since: datetime
) -> list[tuple[int, datetime, bool]]:
    """The (id, time, pending) of every attempt recorded under ``key`` after ``since``."""
    rows = await session.execute(select(model.id, model.at, model.pending).where(model.key == key, model.at > since))
    return [(row_id, at, pending) for row_id, at, pending in rows.all()]


async def lock_login_keys(session: AsyncSession, *, keys: Sequence[str]) -> None:
    """Take the keys' locks for the rest of the transaction, so one attempt at a time decides on a key: PostgreSQL
    advisory locks, in a fixed order (no deadlock); SQLite lets one writer at a time anyway, from its first write."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(lock_id)))


async def judge_login_attempts(session: AsyncSession, *, model: LoginFailureModel, ids: Sequence[int]) -> None:
    """These attempts failed (or were refused): they count as failures from now on."""
    await session.execute(update(model).where(model.id.in_(list(ids))).values(pending=False))


async def delete_login_attempts(
    session: AsyncSession, *, model: LoginFailureModel, ids: Sequence[int], keys: Sequence[str] = ()
) -> None:
    """Forget these attempts and every attempt under ``keys`` (a good login), in one statement: concurrent good
    logins then lock the rows in the same order and never deadlock (PostgreSQL)."""
    await session.execute(delete(model).where(model.id.in_(list(ids)) | model.key.in_(list(keys))))


async def prune_login_attempts(session: AsyncSession, *, model: LoginFailureModel, before: datetime) -> None:
    """Drop attempts too old to count against anyone."""
    await session.execute(delete(model).where(model.at < before))


# supervision
import datetime as dt  # noqa: E402

from db.models import ExtensionRequest, SupervisionRecord  # noqa: E402

# An obligation on the supervision list, with its case's handler (username, name; None when unassigned).
SupervisedRow = Row[ObligationRow, str | None, str | None]


async def court_codes_in_subtree(session: AsyncSession, *, court_path: str) -> list[str]:
    """A court and every court below it (Court.path is a prefix of its descendants' paths)."""
    rows = await session.scalars(select(Court.code).where(Court.path.startswith(court_path)).order_by(Court.path))
    return list(rows.all())


async def supervised_obligations(
    session: AsyncSession,
    *,
    court_path: str,
    horizon: dt.datetime,
    workflow_ids: Sequence[str] | None = None,
) -> Sequence[SupervisedRow]:
    """Open, running obligations of open cases in a court's subtree, due by ``horizon`` or past a ladder rung.

    ``workflow_ids`` narrows the cases to those the visibility query found; paused obligations (a stay) are left
    out, their clock does not run. Highest level first, then earliest due.
    """
    query = (
        select(ObligationRow, Staff.username, Staff.name)
        .join(Case, ObligationRow.case_id == Case.id)
        .join(Court, Case.court_code == Court.code)
        .outerjoin(Staff, Case.handler_id == Staff.id)
        .where(
            Court.path.startswith(court_path),
            Case.status == "open",
            ObligationRow.status == "open",
            ObligationRow.paused.is_(False),
            (ObligationRow.due_at <= horizon) | (ObligationRow.level >= 1),
        )
        .order_by(ObligationRow.level.desc(), ObligationRow.due_at, ObligationRow.id)
    )
    if workflow_ids is not None:
        found: list[SupervisedRow] = []
        ids = list(dict.fromkeys(workflow_ids))
        for i in range(0, len(ids), 500):  # bounded IN lists
            found.extend((await session.execute(query.where(Case.workflow_id.in_(ids[i : i + 500])))).all())
        found.sort(key=lambda r: (-r[0].level, r[0].due_at, r[0].id))
        return found
    return (await session.execute(query)).all()


async def rung_times(session: AsyncSession, *, case_ids: Sequence[str]) -> dict[tuple[str, str, str], dt.datetime]:
    """When each rung of each obligation of these cases first reached someone, for its current due instant (a
    moved deadline closed the records of the old one): (case, obligation, rung) → time."""
    times: dict[tuple[str, str, str], dt.datetime] = {}
    ids = list(dict.fromkeys(case_ids))
    for i in range(0, len(ids), 500):
        rows = await session.execute(
            select(
                SupervisionRecord.case_id,
                SupervisionRecord.obligation_id,
                SupervisionRecord.rung,
                func.min(SupervisionRecord.created_at),
            )
            .where(SupervisionRecord.case_id.in_(ids[i : i + 500]), SupervisionRecord.met_at.is_(None))
            .group_by(SupervisionRecord.case_id, SupervisionRecord.obligation_id, SupervisionRecord.rung)
        )
        for case_id, obligation_id, rung, at in rows.all():
            times[(case_id, obligation_id, rung)] = at
    return times


async def inbox(session: AsyncSession, *, staff_id: int, include_met: bool = False) -> Sequence[SupervisionRecord]:
    """The supervision records (督办) addressed to one staff member, newest first; unmet ones only by default."""
    query = select(SupervisionRecord).where(SupervisionRecord.staff_id == staff_id)
    if not include_met:
        query = query.where(SupervisionRecord.met_at.is_(None))
    query = query.order_by(SupervisionRecord.created_at.desc(), SupervisionRecord.id.desc())
    return (await session.scalars(query)).all()


async def extensions_of_case(session: AsyncSession, *, case_id: str) -> Sequence[ExtensionRequest]:
    query = select(ExtensionRequest).where(ExtensionRequest.case_id == case_id)
    return (await session.scalars(query.order_by(ExtensionRequest.requested_at, ExtensionRequest.id))).all()


async def extension_of_case(session: AsyncSession, *, case_id: str, extension_id: str) -> ExtensionRequest | None:
    return await session.scalar(
        select(ExtensionRequest).where(ExtensionRequest.case_id == case_id, ExtensionRequest.id == extension_id)
    )


async def obligation_of_case(session: AsyncSession, *, case_id: str, obligation_id: str) -> ObligationRow | None:
    return await session.scalar(
        select(ObligationRow).where(ObligationRow.case_id == case_id, ObligationRow.obligation_id == obligation_id)
    )


async def workflows_depending_on_year(session: AsyncSession, *, year: int) -> Sequence[str]:
    """Workflows with an open obligation whose period touches ``year`` (opened before the year ends, due on or after
    it begins), or that was computed on weekends alone and is due on or after it begins: a holiday schedule entered
    or changed for ``year`` may move their deadlines (DOMAIN.md → Time).

    ``opened_at`` stands for the period's start, which a stay only moves later: the span can only be wider, so no
    case is missed. Closed cases count too while an obligation is open (the 终本 follow-up, the masking)."""
    begins, ends = start_of_day(dt.date(year, 1, 1)), start_of_day(dt.date(year + 1, 1, 1))
    rows = await session.scalars(
        select(Case.workflow_id)
        .join(ObligationRow, ObligationRow.case_id == Case.id)
        .where(
            Case.status != "filing",
            ObligationRow.status == "open",
            ObligationRow.due_at >= begins,
            (ObligationRow.opened_at < ends) | ObligationRow.confirmed.is_(False),
        )
        .distinct()
        .order_by(Case.workflow_id)
    )
    return rows.all()


async def case_view(session: AsyncSession, *, case: Case, rules: RuleSet) -> CaseView:
    """The case as the one guard sees it, from the read model (the workflow builds the same from its state)."""
    latest = await session.execute(
        select(Node.type, func.max(Node.occurred_at)).where(Node.case_id == case.id).group_by(Node.type)
    )
    closed = case.status == "closed"  # an open case has no closure mode and cannot have been restored
    closure = (
        await session.scalar(
            select(Node).where(Node.case_id == case.id, Node.type == rules.closure_node).order_by(Node.seq.desc())
        )
        if closed
        else None
    )
    term = await session.scalar(
        select(ObligationRow.due_at).where(
            ObligationRow.case_id == case.id,
            ObligationRow.rule == rules.extendable.id,
            ObligationRow.status == "open",
        )
    )
    requests = (
        await session.execute(
            select(ExtensionRequest.kind, ExtensionRequest.status).where(ExtensionRequest.case_id == case.id)
        )
    ).all()
    restored = closed and bool(
        await session.scalar(select(func.count()).select_from(Case).where(Case.restored_from == case.id))
    )
    return CaseView(
        filed_on=case.filed_on,
        status="closed" if closed else "open",
        last_node_at={code: at for code, at in latest.all()},
        closure_mode=closure.fields.get("mode") if closure else None,
        restored=restored,
        term_due=term,
        pending=frozenset(kind for kind, status in requests if status == "pending"),
        approved=frozenset(kind for kind, status in requests if status == "approved"),
    )


# staff tokens ended by logout


async def token_revoked(session: AsyncSession, *, jti: str) -> bool:
    return await session.get(RevokedToken, jti) is not None


async def revoke_token(session: AsyncSession, *, jti: str, expires_at: datetime, at: datetime) -> None:
    """Refuse the token from now on; logging out twice is the same (INSERT … ON CONFLICT DO NOTHING)."""
    values = {"jti": jti, "expires_at": expires_at, "revoked_at": at}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(postgresql.insert(RevokedToken).values(**values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite.insert(RevokedToken).values(**values).on_conflict_do_nothing())


async def prune_revoked_tokens(session: AsyncSession, *, before: datetime) -> None:
    """Forget revoked tokens that have expired anyway."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < before))


# idempotency keys bound to their requests' bodies (api/idempotency.py)
from db.models import IdempotencyKey  # noqa: E402


async def claim_idempotency_key(
    session: AsyncSession, *, case_id: str, scope: str, key: str, request_hash: str, at: datetime
) -> bool:
    """Claim the key for a body (INSERT … ON CONFLICT DO NOTHING); True if this call claimed it."""
    values = {"case_id": case_id, "scope": scope, "key": key, "request_hash": request_hash, "created_at": at}
    columns = ["case_id", "scope", "key"]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(IdempotencyKey).values(**values).on_conflict_do_nothing(index_elements=columns)
    return (await session.execute(stmt.returning(IdempotencyKey.id))).first() is not None


async def idempotency_key_hash(session: AsyncSession, *, case_id: str, scope: str, key: str) -> str | None:
    """The fingerprint of the body the key was claimed with, if it is claimed."""
    return await session.scalar(
        select(IdempotencyKey.request_hash).where(
            IdempotencyKey.case_id == case_id, IdempotencyKey.scope == scope, IdempotencyKey.key == key
        )
    )


async def free_idempotency_key(session: AsyncSession, *, case_id: str, scope: str, key: str) -> None:
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.case_id == case_id, IdempotencyKey.scope == scope, IdempotencyKey.key == key
        )
    )
