"""Documents, e-service and service receipts (seed 001 第三条(十四)(十五), 第十一条; API.md → Documents and e-service).

Staff (the case's handler or clerk) attach a document — a PDF or an image, checked and kept by the file store under
its content hash (core/files.py) — to the case and, optionally, to one of its nodes; it is disclosed with its node.
A disclosed procedural document — not a ruling (裁定书) or a decision (决定书), seed 001 第六条, domain/documents.py —
is served electronically to every party who consented (``parties.eservice_consent``):
applicants, agents and respondents. In one transaction the document row and the reminder SMS (outbox reason
``eservice:<document id>``; a respondent without a query code gets its own in it); then the case's workflow hears
``CASE_EVENT`` ``eservice_reminder`` (it opens ``eservice-3d`` for the clerk and sends the queued SMS in its notices
lane). The first download by a party writes its service receipt (who, when, the hash of the bytes handed over) and
sends ``downloaded``, which meets the clock; not downloaded within 3 days, the ladder asks the clerk to serve it by
post, e-mail or fax, and the clerk's ``service`` node naming the document meets it.

As with messages (api/messages.py), rows are committed before the workflow is asked: a 503 leaves them, a retry or
``serve_pending`` (every API process, every 30 s: a round of api/announcer.py) finishes the job; the update's key makes
a repeat a no-op and the outbox's unique (case, reason, recipient) key sends nothing twice.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.access import visible_case
from api.messages import PARTY_ROLE_NAMES
from api.portal_auth import PortalUser
from api.updates import send_case_event
from core.files import ACCEPTED, FileStore
from core.settings import Settings
from db import queries
from db.models import Case, Document, Node, ObligationRow, Party, ServiceReceipt, SmsMessage, Staff
from domain import guard
from domain.documents import eservable
from domain.errors import Forbidden, InvalidInput, NotFound, TooManyAttempts, Unavailable, YgError
from domain.models import CaseEventInput, Notice
from domain.nodes import SERVICE_METHODS, node_type
from domain.portal import portal_link
from domain.rules import rule_set
from domain.secrets import hashed, new_query_code
from domain.sms import Signature, eservice_message

log = logging.getLogger(__name__)

ESERVICE_REASON = "eservice:"  # outbox reason and event key: eservice:<document id>
DOWNLOADED_KEY = "downloaded:"  # event key of a document's first download: downloaded:<document id>
ESERVICE_RULE = "eservice-3d"
# Who is served electronically when they consented (seed 001 第十一条: 受送达人).
SERVED_ROLES = ("applicant", "agent", "respondent")
MAX_TITLE = 100
RATE_WINDOW = timedelta(hours=24)
SERVE_INTERVAL = timedelta(seconds=30)
SERVE_GRACE = timedelta(seconds=60)
SERVE_BATCH = 50
NODE_ID = re.compile(r"[0-9A-Za-z-]{1,36}")


# ---------------------------------------------------------------- bodies


class DocumentCreated(BaseModel):
    document_id: str
    sha256: str


class PartyDocumentOut(BaseModel):
    """A document as its party sees it (API.md fixes the first three fields)."""

    document_id: str
    title: str
    sha256: str
    content_type: str
    size: int
    node_id: str | None
    uploaded_at: datetime
    downloaded_at: datetime | None  # this party's first download (its receipt), if any


class PartyDocumentsOut(BaseModel):
    items: list[PartyDocumentOut]


class ReceiptOut(BaseModel):
    """A service receipt (API.md fixes the first four fields)."""

    document_id: str
    party: str  # the party's role and name
    downloaded_at: datetime
    sha256: str
    receipt_id: int
    title: str
    party_role: str


class ReceiptsOut(BaseModel):
    items: list[ReceiptOut]


@dataclass(frozen=True)
class StaffDocument:
    """A document on the staff case page, with what became of its e-service."""

    document: Document
    node_label: str | None
    recipients: int  # parties served electronically
    eservable: bool  # a procedural document, not a ruling or a decision (seed 001 第六条)
    receipts: list[ServiceReceipt]
    clock: str | None  # the eservice-3d obligation's status: open | met | …


# ---------------------------------------------------------------- names


def clean_name(raw: str | None, *, fallback: str, limit: int = MAX_TITLE) -> str:
    """A name as shown: its last path segment, printable characters only, NFC, bounded; never used as a path."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|*?\x7f').strip()
    return name[:limit] or fallback


def download_name(document: Document) -> str:
    """The file name a download is given: the title and the extension of what the bytes are."""
    stem = clean_name(document.title, fallback="文书").replace("/", "_").replace(":", "_").rstrip(". ")
    return f"{stem or '文书'}.{ACCEPTED.get(document.content_type, 'bin')}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987): the browser saves, never renders."""
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename) or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# ---------------------------------------------------------------- attaching and serving


def require_handler_or_clerk(staff: Staff, case: Case) -> None:
    if staff.id not in (case.handler_id, case.clerk_id):
        raise Forbidden("只有本案承办人或书记员可以上传文书 (not on this case)", kind="NotOnCase")


async def attach(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    files: FileStore,
    *,
    staff: Staff,
    case_id: str,
    title: str,
    data: bytes,
    filename: str | None,
    node_id: str | None = None,
    disclose: bool = True,
) -> tuple[Document, bool]:
    """Attach a document to a case (and node), serve it electronically if disclosed; return it and whether this
    request wrote it (the same file on the same case again is the same document, finishing a 503's work)."""
    case = await visible_case(session, staff, case_id)
    require_handler_or_clerk(staff, case)
    title = clean_name(title, fallback="")
    if not title:
        raise InvalidInput("请填写文书名称（title）", kind="MissingField")
    node = None
    if node_id:
        # A node id is a UUID: anything else (a NUL PostgreSQL cannot even compare) is no node of this case.
        node = None
        if NODE_ID.fullmatch(node_id):
            node = await session.scalar(select(Node).where(Node.id == node_id, Node.case_id == case.id))
        if node is None:
            raise NotFound("本案没有该节点 (node not found)", kind="NodeNotFound")
    stored = await files.aput(data, filename=filename)  # 413 / 415 before anything is written
    found = await session.scalar(select(Document).where(Document.case_id == case.id, Document.sha256 == stored.sha256))
    if found is not None:
        await announce(session, client, found)
        return found, False
    disclosed = disclose and (node is None or node.disclose)
    recipients = _recipients(case) if disclosed and eservable(title) else []
    if recipients:
        rules = rule_set(case.rule_version)
        guard.check_event(rules, await queries.case_view(session, case=case, rules=rules), event="eservice_reminder")
    await _check_rate(session, case, settings)
    now = datetime.now(UTC)
    document = Document(
        id=str(uuid.uuid4()),
        case_id=case.id,
        node_id=node.id if node else None,
        title=title,
        filename=clean_name(filename, fallback=f"{title}.{stored.extension}"),
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        disclosed=disclosed,
        eservice=bool(recipients),
        uploaded_by=staff.id,
        uploaded_at=now,
    )
    session.add(document)
    await session.flush()
    await _queue_reminders(session, settings, case, document, recipients, now)
    try:
        await session.commit()
    except IntegrityError:
        # The same file sent twice at once: the other request wrote it.
        await session.rollback()
        found = await session.scalar(
            select(Document).where(Document.case_id == case.id, Document.sha256 == stored.sha256)
        )
        if found is None:
            raise
        await announce(session, client, found)
        return found, False
    await announce(session, client, document, refused=_withdraw)
    return document, True


def _recipients(case: Case) -> list[Party]:
    """The parties served electronically: those who consented, with a phone, not dismissed (seed 001 第十一条)."""
    return [
        p for p in case.parties if p.role in SERVED_ROLES and p.eservice_consent and p.phone and p.dismissed_at is None
    ]


async def _queue_reminders(
    session: AsyncSession, settings: Settings, case: Case, document: Document, recipients: list[Party], now: datetime
) -> None:
    rules = rule_set(case.rule_version)
    sig = Signature(
        court_name=case.court.name,
        handler_name=case.handler.name if case.handler else None,
        handler_phone=case.handler.office_phone if case.handler else None,
    )
    link = portal_link(settings.public_base_url, case.case_number) if settings.public_base_url else None
    for party in recipients:
        code = None
        if not party.query_code_hash:
            # A respondent who consented has no query code from filing: its own, so that it can log in.
            code = new_query_code()
            party.query_code_hash = await hashed(code)
        assert party.phone
        session.add(
            SmsMessage(
                case_id=case.id,
                reason=ESERVICE_REASON + document.id,
                recipient=f"party:{party.id}",
                to=party.phone,
                body=eservice_message(
                    sig,
                    case_number=case.case_number,
                    title=document.title,
                    days=rules.rule(ESERVICE_RULE).length,
                    portal_url=link,
                    query_code=code,
                ),
                status="pending",
                provider=settings.sms_provider,
                created_at=now,
            )
        )


async def _check_rate(session: AsyncSession, case: Case, settings: Settings) -> None:
    """At most ``max_documents_per_case_per_day`` documents a case in 24 hours (a runaway script is refused, 429)."""
    since = datetime.now(UTC) - RATE_WINDOW
    count = await session.scalar(
        select(func.count()).select_from(Document).where(Document.case_id == case.id, Document.uploaded_at > since)
    )
    limit = settings.max_documents_per_case_per_day
    if (count or 0) >= limit:
        raise TooManyAttempts(
            f"本案24小时内最多可上传{limit}份文书，请稍后再上传 (too many documents)",
            retry_after=3600,
            kind="TooManyDocuments",
        )


async def _withdraw(session: AsyncSession, document: Document) -> None:
    """The workflow refused the e-service (the case closed meanwhile): the document and its SMS are removed."""
    await session.execute(delete(SmsMessage).where(SmsMessage.reason == ESERVICE_REASON + document.id))
    await session.execute(delete(Document).where(Document.id == document.id))
    await session.commit()


async def announce(
    session: AsyncSession,
    client: Client,
    document: Document,
    *,
    refused: Callable[[AsyncSession, Document], Awaitable[None]] | None = None,
) -> None:
    """Tell the case's workflow of an e-service not yet announced: the clerk's clock opens, the reminders go out."""
    if not document.eservice or document.served_at is not None:
        return
    reason = ESERVICE_REASON + document.id
    inp = CaseEventInput(
        event="eservice_reminder", ref=document.id, key=reason, notice=Notice(kind="deliver", reason=reason)
    )
    await _send_event(
        session,
        client,
        document.case_id,
        inp,
        failed="文书未能送达",
        refused=None if refused is None else lambda: refused(session, document),
    )
    await session.execute(
        update(Document).where(Document.id == document.id, Document.served_at.is_(None)).values(served_at=_now())
    )
    await session.commit()


def _send_event(
    session: AsyncSession,
    client: Client,
    case_id: str,
    event: CaseEventInput,
    *,
    failed: str,
    refused: Callable[[], Awaitable[None]] | None = None,
) -> Awaitable[None]:
    return send_case_event(
        session, client, case_id, event, failed=failed, ended="案件流程已结束，不能再电子送达", refused=refused
    )


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- downloading and receipts


async def party_document(session: AsyncSession, *, me: PortalUser, document_id: str) -> Document:
    """A disclosed document of the party's own case; any other is not found (never "forbidden": no hint it exists)."""
    document = await session.scalar(
        select(Document).where(Document.id == document_id, Document.case_id == me.case.id, Document.disclosed.is_(True))
    )
    if document is None:
        raise NotFound("文书不存在 (document not found)", kind="DocumentNotFound")
    return document


async def download(
    session: AsyncSession, client: Client, files: FileStore, *, me: PortalUser, document_id: str
) -> tuple[Document, bytes]:
    """The party's download: the bytes (checked against their hash), and at the first download of a document served
    electronically the receipt, then ``downloaded`` to the case's workflow. A document only disclosed (a ruling, or
    nobody consented) is read, not served: no receipt. The file is handed over even when Temporal cannot be
    reached: the receipt is kept and announced later."""
    document = await party_document(session, me=me, document_id=document_id)
    data = await files.aopen(document.sha256)
    if not document.eservice:
        return document, data
    receipt = await session.scalar(
        select(ServiceReceipt).where(ServiceReceipt.document_id == document.id, ServiceReceipt.party_id == me.party.id)
    )
    if receipt is None:
        session.add(
            ServiceReceipt(
                case_id=document.case_id,
                document_id=document.id,
                party_id=me.party.id,
                sha256=document.sha256,
                downloaded_at=_now(),
            )
        )
        try:
            await session.commit()
        except IntegrityError:  # the same party downloading twice at once: the other request wrote it
            await session.rollback()
        receipt = await session.scalar(
            select(ServiceReceipt).where(
                ServiceReceipt.document_id == document.id, ServiceReceipt.party_id == me.party.id
            )
        )
    if receipt is not None and receipt.announced_at is None:
        try:
            await announce_download(session, client, receipt)
        except Unavailable:
            log.warning("download not yet announced: Temporal unavailable", extra={"document_id": document.id})
    return document, data


async def announce_download(session: AsyncSession, client: Client, receipt: ServiceReceipt) -> None:
    """Tell the workflow that the document was downloaded (meets its ``eservice-3d``); once per document: the key is
    the document's, so a second party's download is a no-op there. A case whose workflow has ended has no clock
    left to meet: the receipt counts as announced."""
    document = receipt.document
    if document.eservice:
        inp = CaseEventInput(event="downloaded", ref=document.id, key=DOWNLOADED_KEY + document.id)
        try:
            await _send_event(session, client, document.case_id, inp, failed="签收未能记录")
        except Unavailable:
            raise
        except YgError as e:
            log.info("download not announced: %s", e.kind, extra={"document_id": document.id})
    await session.execute(
        update(ServiceReceipt)
        .where(ServiceReceipt.id == receipt.id, ServiceReceipt.announced_at.is_(None))
        .values(announced_at=_now())
    )
    await session.commit()


# ---------------------------------------------------------------- reading


async def documents_of_party(session: AsyncSession, *, me: PortalUser) -> PartyDocumentsOut:
    """The disclosed documents of the party's case, newest first, with the party's own first download."""
    rows = (
        await session.scalars(
            select(Document)
            .where(Document.case_id == me.case.id, Document.disclosed.is_(True))
            .order_by(Document.uploaded_at.desc(), Document.id)
        )
    ).unique()
    mine = dict(
        (
            await session.execute(
                select(ServiceReceipt.document_id, ServiceReceipt.downloaded_at).where(
                    ServiceReceipt.case_id == me.case.id, ServiceReceipt.party_id == me.party.id
                )
            )
        ).all()
    )
    return PartyDocumentsOut(
        items=[
            PartyDocumentOut(
                document_id=d.id,
                title=d.title,
                sha256=d.sha256,
                content_type=d.content_type,
                size=d.size,
                node_id=d.node_id,
                uploaded_at=d.uploaded_at,
                downloaded_at=mine.get(d.id),
            )
            for d in rows
        ]
    )


async def documents_by_node(session: AsyncSession, *, me: PortalUser) -> dict[str, list[PartyDocumentOut]]:
    """The party's documents grouped by their node, for the portal's timeline (portal/_node_documents.html)."""
    grouped: dict[str, list[PartyDocumentOut]] = {}
    for d in (await documents_of_party(session, me=me)).items:
        if d.node_id:
            grouped.setdefault(d.node_id, []).append(d)
    return grouped


def party_label(party: Party) -> str:
    return f"{PARTY_ROLE_NAMES.get(party.role, party.role)} {party.name}"


def _receipt_out(r: ServiceReceipt) -> ReceiptOut:
    return ReceiptOut(
        document_id=r.document_id,
        party=party_label(r.party),
        downloaded_at=r.downloaded_at,
        sha256=r.sha256,
        receipt_id=r.id,
        title=r.document.title,
        party_role=PARTY_ROLE_NAMES.get(r.party.role, r.party.role),
    )


async def receipts_of_case(session: AsyncSession, *, staff: Staff, case_id: str) -> ReceiptsOut:
    """Every service receipt of the case, for staff who see it (API.md: staff on the case)."""
    case = await visible_case(session, staff, case_id)
    rows = (
        await session.scalars(
            select(ServiceReceipt)
            .where(ServiceReceipt.case_id == case.id)
            .order_by(ServiceReceipt.downloaded_at, ServiceReceipt.id)
        )
    ).unique()
    return ReceiptsOut(items=[_receipt_out(r) for r in rows])


async def receipt_of_case(session: AsyncSession, *, staff: Staff, case_id: str, receipt_id: int) -> ServiceReceipt:
    case = await visible_case(session, staff, case_id)
    receipt = await session.scalar(
        select(ServiceReceipt).where(ServiceReceipt.id == receipt_id, ServiceReceipt.case_id == case.id)
    )
    if receipt is None:
        raise NotFound("送达回证不存在 (receipt not found)", kind="ReceiptNotFound")
    return receipt


async def staff_documents(session: AsyncSession, *, case: Case) -> list[StaffDocument]:
    """The case's documents for its staff page: node, recipients, receipts, the clerk's clock."""
    docs = list(
        (
            await session.scalars(
                select(Document).where(Document.case_id == case.id).order_by(Document.uploaded_at, Document.id)
            )
        ).unique()
    )
    receipts = list(
        (
            await session.scalars(
                select(ServiceReceipt)
                .where(ServiceReceipt.case_id == case.id)
                .order_by(ServiceReceipt.downloaded_at, ServiceReceipt.id)
            )
        ).unique()
    )
    sent = dict(
        (
            await session.execute(
                select(SmsMessage.reason, func.count())
                .where(SmsMessage.case_id == case.id, SmsMessage.reason.startswith(ESERVICE_REASON))
                .group_by(SmsMessage.reason)
            )
        ).all()
    )
    clocks = dict(
        (
            await session.execute(
                select(ObligationRow.obligation_id, ObligationRow.status).where(
                    ObligationRow.case_id == case.id, ObligationRow.obligation_id.startswith(ESERVICE_RULE + ":")
                )
            )
        ).all()
    )
    nodes = dict(
        (
            await session.execute(select(Node.id, Node.type).where(Node.id.in_([d.node_id for d in docs if d.node_id])))
        ).all()
    )
    out = []
    for d in docs:
        label = None
        if d.node_id and d.node_id in nodes:
            nt = node_type(nodes[d.node_id])
            label = nt.name if nt else nodes[d.node_id]
        out.append(
            StaffDocument(
                document=d,
                node_label=label,
                recipients=int(sent.get(ESERVICE_REASON + d.id, 0)),
                eservable=eservable(d.title),
                receipts=[r for r in receipts if r.document_id == d.id],
                clock=clocks.get(f"{ESERVICE_RULE}:{d.id}"),
            )
        )
    return out


# ---------------------------------------------------------------- nothing left unannounced


async def serve_pending(sessions: async_sessionmaker[AsyncSession], client: Client) -> int:
    """Announce every e-service and first download older than the grace period that the case's workflow has not
    heard of (its request answered 503 and was not retried); return how many."""
    cutoff = _now() - SERVE_GRACE
    done = 0
    async with sessions() as s:
        documents = list(
            (
                await s.scalars(
                    select(Document)
                    .where(Document.eservice.is_(True), Document.served_at.is_(None), Document.uploaded_at <= cutoff)
                    .order_by(Document.uploaded_at)
                    .limit(SERVE_BATCH)
                )
            ).unique()
        )
        for document in documents:
            try:
                await announce(s, client, document, refused=_withdraw)
            except Unavailable:
                raise
            except YgError as e:
                log.info("e-service not announced: %s", e.kind, extra={"document_id": document.id})
                continue
            done += 1
        receipts = list(
            (
                await s.scalars(
                    select(ServiceReceipt)
                    .where(ServiceReceipt.announced_at.is_(None), ServiceReceipt.downloaded_at <= cutoff)
                    .order_by(ServiceReceipt.downloaded_at)
                    .limit(SERVE_BATCH)
                )
            ).unique()
        )
        for receipt in receipts:
            await announce_download(s, client, receipt)
            done += 1
    return done


# ---------------------------------------------------------------- the staff case page's panel


async def documents_panel(session: AsyncSession, case: Case, staff: Staff) -> dict[str, object]:
    """What ``case_documents.html`` shows: the documents with their e-service and receipts, the upload form for the
    case's handler or clerk, the service form for its clerk while a document's clock is open."""
    on_case = staff.id in (case.handler_id, case.clerk_id)
    nodes = [] if not on_case else await queries.nodes_of_case(session, case_id=case.id)
    return {
        "documents": await staff_documents(session, case=case),
        "can_upload": on_case and case.status == "open",
        "can_serve": on_case,
        "node_choices": [
            (n.id, f"{n.seq}. {nt.name if (nt := node_type(n.type)) else n.type}{'' if n.disclose else '（不公开）'}")
            for n in nodes
        ],
        "service_methods": [m for m in SERVICE_METHODS if m != "电子送达"],
        "form_key": str(uuid.uuid4()),
    }
