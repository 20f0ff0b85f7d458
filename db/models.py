"""SQLAlchemy models: reference data written by the API, and the read model written by activities."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on SQLite and PostgreSQL alike: stored in UTC, returned aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None

        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Court(Base):
    """A court in the tree 高级法院 → 中级法院 → 基层法院."""

    __tablename__ = "courts"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    case_prefix: Mapped[str] = mapped_column(String(8), unique=True)
    level: Mapped[str] = mapped_column(String(16))  # high | intermediate | basic
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("courts.code"))
    path: Mapped[str] = mapped_column(String(128), index=True)  # "/YN/YN01/YN0102/": subtree by prefix


class Staff(Base):
    """A court user with one role of DOMAIN.md."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code"), index=True)
    office_phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Staff tokens carry it; a reset password raises it, so every older token is refused (api/security.py, 0018).
    login_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    court: Mapped[Court] = relationship(lazy="joined")


class Case(Base):
    """An enforcement case (执行案件). Status is written by the workflow's activities only."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code"), index=True)
    cause: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    filed_on: Mapped[date] = mapped_column(Date)
    has_property: Mapped[bool] = mapped_column(Boolean)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    registrar_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    workflow_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="filing")  # filing | open | closed
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    query_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # 1 month after closure (seed 002 第四条)
    restored_from: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))  # the 终本 case this one restores
    # The rule set it was filed under (domain/rules.py): its workflow and the API's guard apply that one. Filing
    # writes it; the server default is the version every case filed before the column existed was filed under.
    rule_version: Mapped[str] = mapped_column(String(16), server_default="2026.1")
    # The fingerprint of the filing's body (api/idempotency.py): filing the number again with other data is refused
    # instead of dropping it. None: filed before it was kept (migration 0011); such a repeat returns the case.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    court: Mapped[Court] = relationship(lazy="joined")
    handler: Mapped[Staff | None] = relationship(foreign_keys=[handler_id], lazy="joined")
    clerk: Mapped[Staff | None] = relationship(foreign_keys=[clerk_id], lazy="joined")
    parties: Mapped[list[Party]] = relationship(back_populates="case", order_by="Party.id", lazy="selectin")


class Party(Base):
    """A party: applicant (申请执行人), agent (委托代理人) or respondent (被执行人)."""

    __tablename__ = "parties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # applicant | agent | respondent
    name: Mapped[str] = mapped_column(String(128))
    # The document's type (domain/identity.py ID_TYPES), the number checked by it; "unknown": a number stored before
    # numbers were checked that is no valid resident ID (migration 0013).
    id_type: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(256))
    eservice_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    query_code_hash: Mapped[str | None] = mapped_column(String(256))
    phone_flag: Mapped[str | None] = mapped_column(String(32))  # shared_phone: used by another applicant
    # An agent (委托代理人) acts for one applicant, or for all of them when None; dismissed (解除委托) it keeps its row
    # for the record but receives no SMS and cannot log in (seed 002 第四条; api/parties.py, migration 0016).
    principal_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", name="fk_parties_principal_id"))
    dismissed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Portal logins of this party carry it; raised when the case's logins end (an agent dismissed), so every older
    # party token is refused at once (api/portal_auth.py).
    login_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    case: Mapped[Case] = relationship(back_populates="parties")


class Node(Base):
    """A recorded node, written by the workflow's activity (unique node_id: a retry writes nothing twice)."""

    __tablename__ = "nodes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    late: Mapped[bool] = mapped_column(Boolean)
    disclose: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    recorded_by: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("case_id", "idempotency_key", name="uq_nodes_case_key"),)


class SmsMessage(Base):
    """The SMS outbox: one row per (case, reason, recipient); the provider is called only for pending rows."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(32))  # party:<id> | staff:<id>
    to: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    provider: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("case_id", "reason", "recipient", name="uq_sms_case_reason_recipient"),
        Index("ix_sms_status", "status"),
    )


# --- calendar: holiday schedules entered by administrators (issue 3) ---


class HolidaySchedule(Base):
    """One day of a year's holiday schedule entered by an administrator: a holiday or a make-up working day (调休)."""

    __tablename__ = "holiday_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
    name: Mapped[str] = mapped_column(String(64), default="")
    entered_by: Mapped[str] = mapped_column(String(64))  # username
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("year", "day", name="uq_holiday_schedules_year_day"),)


class CalendarAudit(Base):
    """Who changed which year's schedule, when, and what changed (before, after, added, removed)."""

    __tablename__ = "calendar_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    who: Mapped[str] = mapped_column(String(64))  # username
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    change: Mapped[dict[str, Any]] = mapped_column(JSON)


class CalendarAlert(Base):
    """A year a deadline needed with no holiday schedule: administrators are asked to enter it (DOMAIN.md → Time)."""

    __tablename__ = "calendar_alerts"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))


# --- obligations, ladder rungs, supervision records (issue 3) ---


class ObligationRow(Base):
    """An obligation as the workflow last reported it (decision 4); the workflow is its only writer, and the row
    keeps the newest version it was sent (decision 1)."""

    __tablename__ = "obligations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    obligation_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # The ladder beside the due instant (seed 004), on the working-day calendar: the handler's reminder and the
    # bureau chief's warning. None: a row written before they were kept (migration 0010), until its next snapshot.
    remind_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16))  # open | met | ended
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    met_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rungs_fired: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[int] = mapped_column(Integer, default=0)  # highest rung reached: LEVELS in domain.rules
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The workflow's version of this snapshot: db.read_model writes only a newer one (decision 1).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    case: Mapped[Case] = relationship(lazy="joined")
    __table_args__ = (UniqueConstraint("case_id", "obligation_id", name="uq_obligations_case_obligation"),)


class SupervisionRecord(Base):
    """A rung of the ladder reaching one staff member (督办); shown in their inbox until the obligation is met."""

    __tablename__ = "supervision_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    obligation_id: Mapped[str] = mapped_column(String(64))
    rung: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    case: Mapped[Case] = relationship(lazy="joined")
    __table_args__ = (
        # Once per rung and due instant: a deadline that moves (an extension, a stay) re-arms the rungs ahead.
        UniqueConstraint(
            "case_id", "obligation_id", "rung", "due_at", "staff_id", name="uq_supervision_rung_due_staff"
        ),
    )


class ExtensionRequest(Base):
    """A request to extend the execution term and its decision (法发〔2006〕35号)."""

    __tablename__ = "extension_requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="extension")  # extension | zhongben
    months: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text, default="")  # the decider's note
    # A 终本 exception: the conditions it waives (unmet when asked, seed 003), kept apart from the note.
    waived: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # The workflow's version of this snapshot: db.read_model writes only a newer one (decision 1).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# --- public lists, progress feedback, follow-up (issue 4) ---


class PublicListEntry(Base):
    """A respondent on a public list (seed 002 第一条): kept masked, shown while ``visible``, never deleted.

    Only what the public list shows is copied here (the name, a masked ID number, the address down to its
    district), so serving the list never touches the parties table.
    """

    __tablename__ = "public_list_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    list_name: Mapped[str] = mapped_column(String(32))  # unfinished-cases | dishonest | exit-restrictions | …
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    node_id: Mapped[str | None] = mapped_column(String(36))  # the listing node; None for the filing
    name: Mapped[str] = mapped_column(String(128))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    address_masked: Mapped[str | None] = mapped_column(String(128))
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="visible")  # visible | lifted | masked
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lifted_node_id: Mapped[str | None] = mapped_column(String(36))
    masked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("case_id", "list_name", "party_id", name="uq_public_list_case_list_party"),
        Index("ix_public_list_status", "list_name", "status", "since"),
    )


# --- progress feedback, party portal (issue 4) ---


class Feedback(Base):
    """A progress feedback to the applicant (seed 002 第五条), written once by the workflow's activity; the
    applicant's views and suggestions (听取其对案件执行的意见和建议) are added once, from the portal."""

    __tablename__ = "feedback"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the workflow's feedback_id
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    n: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str | None] = mapped_column(String(64))  # "feedback:<n>"; None: a voluntary feedback
    request_id: Mapped[str | None] = mapped_column(String(128))  # the handler's Idempotency-Key
    measures: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text)
    applicant_tasks: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))  # username
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replied_by_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    __table_args__ = (Index("ix_feedback_case_request", "case_id", "request_id"),)


class PortalLoginFailure(Base):
    """A failed party login, kept to limit guessing of query codes: keyed by a hash of case number and ID number,
    so the table holds no personal data."""

    __tablename__ = "portal_login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # An attempt still being judged (api/throttle.py); then a failure, or gone if it was good.
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    __table_args__ = (Index("ix_portal_login_failures_key_at", "key", "at"),)


# --- access and abuse (issue 9) ---


class StaffLoginFailure(Base):
    """A staff login attempt, kept to throttle password guessing per username and per client address (api/security.py):
    keyed by a hash of either, so the table holds neither. Judged wrong ones stay for the window."""

    __tablename__ = "staff_login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # still being judged
    __table_args__ = (Index("ix_staff_login_failures_key_at", "key", "at"),)


class RevokedToken(Base):
    """A staff token ended by logout before it expires (its ``jti``): refused on every request until it would have
    expired anyway, then forgotten."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` claimed on a case with the fingerprint of its request's body, before the case's
    workflow is asked (api/idempotency.py): the same key with another body is refused (409), and of identical
    requests sent at once exactly one is the first (201), the others repeats (200)."""

    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    scope: Mapped[str] = mapped_column(String(16))  # node | extension | zhongben | feedback | assignment
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical JSON body
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("case_id", "scope", "key", name="uq_idempotency_keys_case_scope_key"),)


# --- identity documents and the court information page (issue 10 items 5, 6; migration 0013) ---


class CourtInformation(Base):
    """One section of a court's public information page (domain/court_information.py), plain text written by the
    court's administrator; every change is kept in court_information_changes."""

    __tablename__ = "court_information"
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code"), primary_key=True)
    section: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: seeded with the demo data


class CourtInformationChange(Base):
    """Who changed which section of a court's information page, when, and to what (the audit of item 6)."""

    __tablename__ = "court_information_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code"), index=True)
    section: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    changed_by: Mapped[Staff] = relationship(lazy="joined")


# --- messages and complaints (issue 10 item 2; migration 0014) ---


class PartyMessage(Base):
    """A party's message to the handler or complaint to the discipline head (seed 001 第十条; seed 004), with its one
    reply. Written by the API with the SMS announcing it (one transaction); ``delivered_at`` is set once the case's
    workflow has heard of it (the reply clock opened), so none is left unannounced (api/messages.py)."""

    __tablename__ = "party_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # message | complaint
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)  # who wrote
    text: Mapped[str] = mapped_column(Text)
    request_key: Mapped[str] = mapped_column(String(128))  # the party's Idempotency-Key (or a generated one)
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the request: the key with another body is 409
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who replied
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reply_hash: Mapped[str | None] = mapped_column(String(64))  # a repeated reply with the same text is a repeat
    reply_delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    party: Mapped[Party] = relationship(lazy="joined")
    replier: Mapped[Staff | None] = relationship(lazy="joined")
    attachments: Mapped[list[MessageAttachment]] = relationship(
        order_by="MessageAttachment.id", lazy="selectin", cascade="all, delete-orphan"
    )
    __table_args__ = (
        UniqueConstraint("party_id", "request_key", name="uq_party_messages_party_key"),
        Index("ix_party_messages_undelivered", "delivered_at", "created_at"),
    )


class MessageAttachment(Base):
    """A file a party sent with a message (materials; asset clues with photos, seed 004), kept in the file store by
    its content hash; the name is the party's, shown only, never a path."""

    __tablename__ = "message_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("party_messages.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)


# --- documents, e-service and receipts (issue 10 items 3, 7; migration 0015) ---


class Document(Base):
    """A document staff attached to a case (and to one of its nodes), kept in the file store by its content hash
    (core/files.py). Disclosed with its node; a disclosed document is served electronically to every party who
    consented (seed 001 第十一条): the row and the reminder SMS in one transaction, then ``served_at`` once the case's
    workflow has opened the clerk's 3-day clock (api/documents.py)."""

    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    node_id: Mapped[str | None] = mapped_column(String(36))  # the node it belongs to (nodes.id), if any
    title: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(128))  # as uploaded, shown only: never a path
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    disclosed: Mapped[bool] = mapped_column(Boolean)
    eservice: Mapped[bool] = mapped_column(Boolean)  # served electronically: disclosed, with consenting recipients
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    served_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the workflow heard of the e-service
    uploader: Mapped[Staff] = relationship(lazy="joined")
    __table_args__ = (
        UniqueConstraint("case_id", "sha256", name="uq_documents_case_sha256"),
        Index("ix_documents_unserved", "served_at", "uploaded_at"),
    )


class ServiceReceipt(Base):
    """A party's first download of a served document: who, when, and the hash of the bytes handed over (seed 001
    第十一条: 自动生成送达回证). ``announced_at`` once the case's workflow heard of the download."""

    __tablename__ = "service_receipts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    downloaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    party: Mapped[Party] = relationship(lazy="joined")
    document: Mapped[Document] = relationship(lazy="joined")
    __table_args__ = (UniqueConstraint("document_id", "party_id", name="uq_service_receipts_document_party"),)


# --- agents and party corrections (issue 10 item 4; migration 0016) ---


class PartyChange(Base):
    """A change to a case's parties, audited (seed 002 第四条; DOMAIN.md → phone): an agent added or dismissed, or a
    party's phone, name or address corrected — who, when, the old and the new value. ``key`` is the change's business
    key (``agent:<party>``, ``dismissal:<party>``, ``correction:<uuid>``), also the reason of the SMS it queued, so
    a repeated request changes and sends nothing twice. ``delivered_at``: the case's workflow has been told to send
    that SMS (None while it has not, e.g. Temporal was unreachable; a repeat of the request tells it then)."""

    __tablename__ = "party_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # agent_added | agent_dismissed | corrected
    field: Mapped[str] = mapped_column(String(16), default="")  # phone | name | address (a correction); "" otherwise
    old_value: Mapped[str | None] = mapped_column(String(256))
    new_value: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))  # username
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # new query codes it queued
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("case_id", "key", "field", name="uq_party_changes_case_key_field"),)


# --- staff accounts kept by administrators (issue 11 item 4; migration 0017) ---


class StaffChange(Base):
    """One change an administrator made to a staff account: created, role changed, deactivated, reactivated,
    password reset (the password itself is never kept here)."""

    __tablename__ = "staff_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # created | role | deactivated | reactivated | password
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str | None] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))  # the administrator's username
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
