"""Documents and e-service (API.md → Documents and e-service): staff attach, parties download (the first download is
the service receipt), staff read the receipts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile as StarletteUpload

from api import documents
from api.access import visible_case
from api.deps import CurrentParty, CurrentStaff, FileStoreDep, SessionDep, SettingsDep, TemporalDep
from api.documents import (
    DocumentCreated,
    PartyDocumentsOut,
    ReceiptsOut,
    content_disposition,
    download_name,
)
from api.errors import ERROR_RESPONSES, ErrorBody
from api.portal_pages import PortalParty, render_portal
from api.recording import record_node
from api.routes.pages import NOTICES, PageStaff, _case_form, _case_page, _me, _not_found, _render, _to_login
from api.schemas import NodeIn
from db.models import Document
from domain.errors import InvalidInput, NotFound, YgError

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    413: {"model": ErrorBody, "description": "File too large / 文件过大"},
    415: {"model": ErrorBody, "description": "Not a PDF, JPEG, PNG or WebP file / 文件类型不被接受"},
    429: {"model": ErrorBody, "description": "Too many documents today / 上传过多"},
}
router = APIRouter(tags=["documents"], responses=RESPONSES)
FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, as an attachment / 文书文件",
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in documents.ACCEPTED},
    }
}


def file_response(document: Document, data: bytes) -> Response:
    """The file as a download: its sniffed type, ``attachment`` with a safe name, never sniffed or cached elsewhere."""
    return Response(
        content=data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": content_disposition(download_name(document)),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/api/cases/{case_id}/documents",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": DocumentCreated, "description": "The same file on this case again / 重复上传"}},
)
async def post_document(
    case_id: str,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    files: FileStoreDep,
    response: Response,
    file: Annotated[UploadFile, File(description="PDF、JPEG、PNG 或 WebP 文件")],
    title: Annotated[str, Form(max_length=documents.MAX_TITLE, description="文书名称，如“执行通知书”")],
    node_id: Annotated[str | None, Form(max_length=36, description="所属节点（node_id）")] = None,
    disclose: Annotated[bool, Form(description="是否向当事人公开（随节点公开）")] = True,
) -> DocumentCreated:
    """Attach a document (the case's handler or clerk). Disclosed, it is served electronically to every party who
    consented: a reminder SMS, download in the portal, the receipt at the first download. The same file on the
    same case again returns 200 and the same document."""
    data = await files.read_upload(file, name=documents.clean_name(file.filename, fallback="文书"))
    document, created = await documents.attach(
        session,
        client,
        settings,
        files,
        staff=staff,
        case_id=case_id,
        title=title,
        data=data,
        filename=file.filename,
        node_id=node_id or None,
        disclose=disclose,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return DocumentCreated(document_id=document.id, sha256=document.sha256)


@router.get("/api/cases/{case_id}/documents/{document_id}", responses=FILE_RESPONSE, response_class=Response)
async def get_case_document(
    case_id: str, document_id: str, staff: CurrentStaff, session: SessionDep, files: FileStoreDep
) -> Response:
    """A document of the case, for staff who see the case."""
    case = await visible_case(session, staff, case_id)
    document = await session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise NotFound("文书不存在 (document not found)", kind="DocumentNotFound")
    return file_response(document, await files.aopen(document.sha256))


@router.get("/api/cases/{case_id}/receipts")
async def get_receipts(case_id: str, staff: CurrentStaff, session: SessionDep) -> ReceiptsOut:
    """The service receipts of the case: who downloaded which document when, and the hash of what they received."""
    return await documents.receipts_of_case(session, staff=staff, case_id=case_id)


@router.get("/api/portal/documents")
async def get_portal_documents(me: CurrentParty, session: SessionDep) -> PartyDocumentsOut:
    """The disclosed documents of the party's case."""
    return await documents.documents_of_party(session, me=me)


@router.get("/api/portal/documents/{document_id}", responses=FILE_RESPONSE, response_class=Response)
async def get_portal_document(
    document_id: str, me: CurrentParty, session: SessionDep, client: TemporalDep, files: FileStoreDep
) -> Response:
    """The file; the party's first download of it is its service receipt (seed 001 第十一条)."""
    document, data = await documents.download(session, client, files, me=me, document_id=document_id)
    return file_response(document, data)


# ---------------------------------------------------------------- pages: the staff console and the party portal

pages = APIRouter(include_in_schema=False)
NOTICES.update(
    {
        "document_attached": "文书已上传；已公开的文书已向同意电子送达的当事人发送提醒短信。",
        "document_same": "该文件此前已上传到本案，未重复上传。",
        "document_served": "送达情况已记录。",
    }
)


@pages.post("/cases/{case_id}/documents")
async def attach_form(
    request: Request,
    case_id: str,
    staff: PageStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    files: FileStoreDep,
) -> Response:
    """The console's upload form: the same service as POST /api/cases/{id}/documents."""
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    upload = (await request.form()).get("file")
    try:
        if not isinstance(upload, StarletteUpload) or not upload.filename:
            raise InvalidInput("请选择要上传的文件", kind="MissingFile")
        data = await files.read_upload(upload, name=documents.clean_name(upload.filename, fallback="文书"))
        _, created = await documents.attach(
            session,
            client,
            settings,
            files,
            staff=staff,
            case_id=case.id,
            title=form.get("title", ""),
            data=data,
            filename=upload.filename,
            node_id=form.get("node_id") or None,
            disclose=form.get("disclose", "1") != "0",
        )
    except YgError as e:
        extra = {"document_error": e, "document_form": form}
        return await _case_page(request, session, staff, case, extra=extra, status=e.status)
    notice = "document_attached" if created else "document_same"
    return RedirectResponse(f"/cases/{case.id}?notice={notice}#documents", status_code=303)


@pages.post("/cases/{case_id}/documents/{document_id}/service")
async def service_form(
    request: Request, case_id: str, document_id: str, staff: PageStaff, session: SessionDep, client: TemporalDep
) -> Response:
    """The clerk records how a document not downloaded was served (seed 001 第十一条: by post, e-mail or fax): a
    ``service`` node naming the document, through the same service as POST /api/cases/{id}/nodes."""
    posted = await _case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    try:
        document = await session.get(Document, document_id)
        if document is None or document.case_id != case.id:
            raise NotFound("文书不存在 (document not found)", kind="DocumentNotFound")
        method = form.get("method", "")
        body = NodeIn.model_validate(
            {
                "type": "service",
                "occurred_at": datetime.now(UTC),
                "summary": f"《{document.title}》已通过{method}送达",
                "method": method,
                "document_id": document.id,
            }
        )
        await record_node(
            session, client, staff=staff, case_id=case.id, body=body, idempotency_key=form.get("idempotency_key")
        )
    except YgError as e:
        return await _case_page(request, session, staff, case, extra={"document_error": e}, status=e.status)
    return RedirectResponse(f"/cases/{case.id}?notice=document_served#documents", status_code=303)


@pages.get("/cases/{case_id}/documents/{document_id}")
async def staff_download(
    request: Request, case_id: str, document_id: str, staff: PageStaff, session: SessionDep, files: FileStoreDep
) -> Response:
    """A document of the case, for staff who see the case (the console's link)."""
    if staff is None:
        return _to_login(request)
    try:
        case = await visible_case(session, staff, case_id)
        document = await session.get(Document, document_id)
        if document is None or document.case_id != case.id:
            raise NotFound("文书不存在 (document not found)", kind="DocumentNotFound")
        return file_response(document, await files.aopen(document.sha256))
    except YgError as e:
        return _not_found(request, staff, e.detail)


@pages.get("/cases/{case_id}/receipts/{receipt_id}")
async def receipt_page(
    request: Request, case_id: str, receipt_id: int, staff: PageStaff, session: SessionDep
) -> Response:
    """The service receipt as a printable page (送达回证): court, case number, document, hash, party, Beijing time."""
    if staff is None:
        return _to_login(request)
    try:
        receipt = await documents.receipt_of_case(session, staff=staff, case_id=case_id, receipt_id=receipt_id)
    except YgError as e:
        return _not_found(request, staff, e.detail)
    case = await visible_case(session, staff, case_id)
    context = {
        "me": _me(staff),
        "case": case,
        "receipt": receipt,
        "party": documents.party_label(receipt.party),
        "printed_at": datetime.now(UTC),
    }
    return _render(request, "receipt.html", context)


@pages.get("/portal/documents")
async def portal_documents_page(request: Request, me: PortalParty, session: SessionDep) -> Response:
    """The party's documents with download links; the first download is the service receipt."""
    listed = await documents.documents_of_party(session, me=me)
    context = {"documents": listed.items, "consented": me.party.eservice_consent}
    return render_portal(request, "portal/documents.html", context, me=me, active="documents")


@pages.get("/portal/documents/{document_id}")
async def portal_download(
    document_id: str, me: PortalParty, session: SessionDep, client: TemporalDep, files: FileStoreDep
) -> Response:
    """The portal's download link: the same as GET /api/portal/documents/{id}, with the portal's login."""
    document, data = await documents.download(session, client, files, me=me, document_id=document_id)
    return file_response(document, data)
