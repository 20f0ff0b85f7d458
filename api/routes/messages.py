"""Messages and complaints (API.md → Party portal and messages): a party writes, the handler or the discipline head
replies; the staff inbox and case page, the party's portal page."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import messages, workbench
from api.access import visible_case
from api.approvals import inbox_items as approval_items
from api.deps import CurrentParty, CurrentStaff, FileStoreDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.messages import MessageCreated, MessageIn, MessageOut, MessagesOut, ReplyIn, Upload
from api.portal_auth import PortalUser
from api.portal_pages import PortalParty, refuse_cross_site, render_portal
from api.routes import pages
from api.routes.pages import PageStaff
from core.files import FileStore
from core.settings import Settings
from db import queries
from db.models import MessageAttachment, PartyMessage
from domain.errors import InvalidInput, NotFound, YgError
from domain.ladder import RUNG_NAMES
from domain.messages import KIND_DESTINATIONS, KIND_NAMES, MAX_TEXT

# Path parameters, bounded: an id past 64 bits or a long text never reaches the database.
MessageId = Annotated[str, Path(max_length=64, description="留言编号")]
AttachmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="附件编号")]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    415: {"model": ErrorBody, "description": "Not a PDF, JPEG, PNG or WebP file / 文件类型不被接受"},
    429: {"model": ErrorBody, "description": "Too many messages, retry after Retry-After seconds / 留言过多"},
}
router = APIRouter(tags=["messages"], responses=RESPONSES)

# The request of POST /api/portal/messages: JSON, or a form with the same fields and the files (multipart).
_MESSAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "text"],
                    "properties": {
                        "kind": {"type": "string", "enum": list(KIND_NAMES)},
                        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
                        "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                }
            },
        },
    }
}


async def read_message(request: Request, files: FileStore, settings: Settings) -> tuple[MessageIn, list[Upload]]:
    """The message and its files, from a JSON body or a multipart form; each file checked and kept by the store."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            form = await request.form(max_files=settings.max_files_per_message + 1, max_fields=20)
            body = MessageIn.model_validate({"kind": form.get("kind"), "text": form.get("text")})
            parts = [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
            return body, await _store(parts, files, settings)
        if kind not in ("application/json", ""):
            raise InvalidInput("请以 JSON 或表单（multipart/form-data）提交留言 (unsupported content type)")
        raw = await request.body()
        try:
            data = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON"}]) from None
        return MessageIn.model_validate(data), []
    except ValidationError as e:
        raise RequestValidationError(e.errors(include_url=False)) from None


async def _store(parts: list[UploadFile], files: FileStore, settings: Settings) -> list[Upload]:
    if len(parts) > settings.max_files_per_message:
        raise InvalidInput(f"每条留言最多附{settings.max_files_per_message}个文件", kind="TooManyFiles")
    uploads = []
    for part in parts:
        data = await files.read_upload(part, name=_name(part.filename))
        stored = await files.aput(data, filename=part.filename)
        uploads.append(
            Upload(
                sha256=stored.sha256, filename=_name(part.filename), content_type=stored.content_type, size=stored.size
            )
        )
    return uploads


def _name(filename: str | None) -> str:
    """The party's name of a file, shown only: its last path segment, printable, bounded."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in "\x00")
    return name[-100:] or "附件"


@router.post(
    "/api/portal/messages",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_MESSAGE_BODY,
    responses={200: {"model": MessageCreated, "description": "A repeat of the Idempotency-Key / 重复提交"}},
)
async def post_message(
    request: Request,
    me: CurrentParty,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    files: FileStoreDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> MessageCreated:
    """Write to the handler (``message``) or complain to the discipline inspection group (``complaint``), with
    files (materials; asset clues with photos) as a multipart form; the same Idempotency-Key again returns 200."""
    body, uploads = await read_message(request, files, settings)
    message_id, created = await messages.write_message(
        session, client, settings, me=me, body=body, files=uploads, key=idempotency_key
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return MessageCreated(message_id=message_id)


@router.get("/api/portal/messages")
async def my_messages(me: CurrentParty, session: SessionDep) -> MessagesOut:
    """The party's own messages and complaints with their replies, newest first."""
    return await messages.messages_of_party(session, me=me)


@router.get("/api/cases/{case_id}/messages")
async def case_messages(case_id: str, staff: CurrentStaff, session: SessionDep) -> MessagesOut:
    """The case's messages (staff who see the case); complaints only for the discipline inspection head."""
    return await messages.messages_of_case(session, staff=staff, case_id=case_id)


@router.post(
    "/api/cases/{case_id}/messages/{message_id}/reply",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": MessageOut, "description": "The same reply again / 重复提交"}},
)
async def reply(
    case_id: str,
    message_id: MessageId,
    body: ReplyIn,
    staff: CurrentStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> MessageOut:
    """Answer a message (the case's handler) or a complaint (the discipline inspection head), once; the party is
    told by SMS. The same reply again returns 200."""
    out, created = await messages.reply(
        session, client, settings, staff=staff, case_id=case_id, message_id=message_id, body=body
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get(
    "/api/cases/{case_id}/messages/{message_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file / 附件"}},
)
async def staff_attachment(
    case_id: str,
    message_id: MessageId,
    attachment_id: AttachmentId,
    staff: CurrentStaff,
    session: SessionDep,
    files: FileStoreDep,
) -> Response:
    """A file a party sent with a message, to staff who may read the message."""
    case = await visible_case(session, staff, case_id)
    found = await _attachment(session, case_id=case.id, message_id=message_id, attachment_id=attachment_id)
    message, attachment = found
    if message.kind == "complaint" and not messages.reads_complaints(staff, case):
        raise NotFound("附件不存在 (attachment not found)", kind="AttachmentNotFound")
    return await _file(files, attachment)


@router.get(
    "/api/portal/messages/{message_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file / 附件"}},
)
async def party_attachment(
    message_id: MessageId, attachment_id: AttachmentId, me: CurrentParty, session: SessionDep, files: FileStoreDep
) -> Response:
    """A file the party itself sent."""
    message, attachment = await _attachment(
        session, case_id=me.case.id, message_id=message_id, attachment_id=attachment_id
    )
    if message.party_id != me.party.id:
        raise NotFound("附件不存在 (attachment not found)", kind="AttachmentNotFound")
    return await _file(files, attachment)


async def _attachment(
    session: Any, *, case_id: str, message_id: str, attachment_id: int
) -> tuple[PartyMessage, MessageAttachment]:
    attachment = await session.get(MessageAttachment, attachment_id)
    message = await session.get(PartyMessage, message_id)
    if attachment is None or message is None or attachment.message_id != message.id or message.case_id != case_id:
        raise NotFound("附件不存在 (attachment not found)", kind="AttachmentNotFound")
    return message, attachment


async def _file(files: FileStore, attachment: MessageAttachment) -> Response:
    data = await files.aopen(attachment.sha256)
    ascii_name = f"attachment-{attachment.id}.{attachment.content_type.rsplit('/', 1)[-1]}"
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{ascii_name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------- console pages (the staff inbox, the case page)

CONSOLE_NOTICES = {"message_replied": "答复已保存，将以短信告知当事人登录查看。"}


@router.get("/inbox", include_in_schema=False)
async def inbox_page(request: Request, staff: PageStaff, session: SessionDep, all: str | None = None) -> Response:
    """What waits for the signed-in staff member: parties' messages (complaints, for the discipline head) to answer,
    and the ladder's reminders and warnings (督办) until their deadline is met."""
    if staff is None:
        return pages._to_login(request)
    include = all == "1"
    waiting = await messages.inbox_items(session, staff=staff, include_replied=include)
    rungs = await queries.inbox(session, staff_id=staff.id, include_met=include)
    return pages._render(
        request,
        "inbox.html",
        {
            "me": pages._me(staff),
            "active": "inbox",
            "messages": waiting,
            # requests waiting for my decision, decisions on mine (api/approvals.py; leader/_inbox_approvals.html)
            "approvals": await approval_items(session, staff=staff, include_done=include),
            # the applicant's replies to my progress feedback (api/workbench.py; _inbox_replies.html)
            "replies": await workbench.feedback_replies(session, staff=staff, include_all=include),
            "rungs": [
                {
                    "case_id": r.case_id,
                    "case_number": r.case.case_number,
                    "subject": r.subject,
                    "rung": RUNG_NAMES.get(r.rung, r.rung),
                    "due_at": r.due_at,
                    "created_at": r.created_at,
                    "met_at": r.met_at,
                }
                for r in rungs
            ],
            "all": include,
        },
    )


@router.post("/cases/{case_id}/messages/{message_id}/reply", include_in_schema=False)
async def reply_form(
    request: Request,
    case_id: str,
    message_id: MessageId,
    staff: PageStaff,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """The case page's reply form, through the same service as the JSON endpoint."""
    posted = await pages._case_form(request, case_id, staff, session)
    if isinstance(posted, Response):
        return posted
    staff, case, form = posted
    text = form.get("text", "")
    try:
        body = _reply_in(text)
        await messages.reply(session, client, settings, staff=staff, case_id=case.id, message_id=message_id, body=body)
    except YgError as e:
        extra = {"message_error": {"id": message_id, "error": e}, "message_text": {message_id: text}}
        return await pages._case_page(request, session, staff, case, extra=extra, status=e.status)
    return RedirectResponse(f"/cases/{case.id}?notice=message_replied#message-{message_id}", status_code=303)


def _reply_in(text: str) -> ReplyIn:
    if not text.strip():
        raise InvalidInput("请填写答复内容", kind="MissingField")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"答复内容不能超过{MAX_TEXT}字", kind="InvalidInput")
    try:
        return ReplyIn(text=text)
    except ValidationError:
        raise InvalidInput("答复内容含有无法保存的字符，请删除后重新提交", kind="InvalidInput") from None


@router.get("/cases/{case_id}/messages/{message_id}/attachments/{attachment_id}", include_in_schema=False)
async def staff_attachment_page(
    request: Request,
    case_id: str,
    message_id: MessageId,
    attachment_id: AttachmentId,
    staff: PageStaff,
    session: SessionDep,
    files: FileStoreDep,
) -> Response:
    """A party's file, opened from the case page (the console's cookie)."""
    if staff is None:
        return pages._to_login(request)
    try:
        return await staff_attachment(case_id, message_id, attachment_id, staff, session, files)
    except YgError as e:
        return pages._not_found(request, staff, e.detail)


# ---------------------------------------------------------------- the portal's page

PORTAL_NOTICES = {
    "sent_message": "留言已提交，承办人将在3个工作日内答复，答复后将短信通知您。",
    "sent_complaint": "投诉已提交至驻院纪检监察组，将在3个工作日内答复，答复后将短信通知您。",
}


def _portal_page(
    request: Request,
    me: PortalUser,
    listed: MessagesOut,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return render_portal(
        request,
        "portal/messages.html",
        {
            "items": listed.items,
            "form": form or {"kind": "message", "text": "", "key": str(uuid.uuid4())},
            "error": error,
            "notice": PORTAL_NOTICES.get(notice or ""),
            "destinations": KIND_DESTINATIONS,
            "max_text": MAX_TEXT,
            "max_files": settings_files(request),
        },
        me=me,
        active="messages",
        status=status,
    )


def settings_files(request: Request) -> int:
    settings: Settings = request.app.state.settings
    return settings.max_files_per_message


@router.get("/portal/messages", include_in_schema=False)
async def portal_messages_page(
    request: Request, me: PortalParty, session: SessionDep, notice: str | None = None
) -> Response:
    """The party's conversations with the court and the form to write: 留言 to the handler, 投诉 to the 纪检监察组."""
    return _portal_page(request, me, await messages.messages_of_party(session, me=me), notice=notice)


@router.post("/portal/messages", include_in_schema=False)
async def portal_write(
    request: Request,
    me: PortalParty,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    files: FileStoreDep,
) -> Response:
    """The portal's form (multipart, with photos), through the same service as POST /api/portal/messages; the form's
    key is the Idempotency-Key, so a form sent twice writes one message."""
    form: dict[str, str] = {"kind": "message", "text": "", "key": str(uuid.uuid4())}
    try:
        refuse_cross_site(request)
        data = await request.form(max_files=settings.max_files_per_message + 1, max_fields=20)
        form = {
            "kind": str(data.get("kind") or ""),
            "text": str(data.get("text") or ""),
            "key": str(data.get("idempotency_key") or "") or str(uuid.uuid4()),
        }
        body = _message_in(form)
        parts = [f for f in data.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
        uploads = await _store(parts, files, settings)
        await messages.write_message(session, client, settings, me=me, body=body, files=uploads, key=form["key"])
    except YgError as e:
        listed = await messages.messages_of_party(session, me=me)
        return _portal_page(request, me, listed, form=form, error=pages._chinese(e.detail), status=e.status)
    return RedirectResponse(f"/portal/messages?notice=sent_{body.kind}", status_code=303)


def _message_in(form: dict[str, str]) -> MessageIn:
    if form["kind"] not in KIND_NAMES:
        raise InvalidInput("请选择留言或投诉", kind="InvalidInput")
    if not form["text"].strip():
        raise InvalidInput("请填写内容", kind="MissingField")
    if len(form["text"]) > MAX_TEXT:
        raise InvalidInput(f"内容不能超过{MAX_TEXT}字", kind="InvalidInput")
    try:
        return MessageIn.model_validate({"kind": form["kind"], "text": form["text"]})
    except ValidationError:
        raise InvalidInput("内容含有无法保存的字符，请删除后重新提交", kind="InvalidInput") from None


@router.get("/portal/messages/{message_id}/attachments/{attachment_id}", include_in_schema=False)
async def portal_attachment_page(
    message_id: MessageId, attachment_id: AttachmentId, me: PortalParty, session: SessionDep, files: FileStoreDep
) -> Response:
    """A file the party sent, opened from the portal (the portal's cookie)."""
    return await party_attachment(message_id, attachment_id, me, session, files)
