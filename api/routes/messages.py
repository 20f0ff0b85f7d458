"""Messages and complaints (API.md → Party portal and messages): a party writes, the handler or the discipline head
replies; the staff inbox and case page, the party's portal page."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import messages
from api.access import visible_case
from api.deps import CurrentParty, CurrentStaff, FileStoreDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.messages import MessageCreated, MessageIn, MessageOut, MessagesOut, ReplyIn, Upload
from core.files import FileStore
from core.settings import Settings
from db.models import MessageAttachment, PartyMessage
from domain.errors import InvalidInput, NotFound, PayloadTooLarge
from domain.messages import KIND_NAMES, MAX_TEXT

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
        data = await part.read(files.max_bytes + 1)
        if len(data) > files.max_bytes:
            raise PayloadTooLarge(f"文件“{_name(part.filename)}”过大 (file too large)")
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
    message_id: str,
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
    case_id: str, message_id: str, attachment_id: int, staff: CurrentStaff, session: SessionDep, files: FileStoreDep
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
    message_id: str, attachment_id: int, me: CurrentParty, session: SessionDep, files: FileStoreDep
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
