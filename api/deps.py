"""Dependencies as aliases: the session, the Temporal client, the settings, the logged-in staff member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.security import staff_of_token
from core.files import FileStore
from core.settings import Settings
from db.models import Staff
from domain.errors import NotAuthenticated

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def _temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _files(request: Request) -> FileStore:
    files: FileStore = request.app.state.files
    return files


SessionDep = Annotated[AsyncSession, Depends(_session)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SettingsDep = Annotated[Settings, Depends(_settings)]
FileStoreDep = Annotated[FileStore, Depends(_files)]  # core/files.py: documents and attachments by hash


async def _current_staff(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> Staff:
    if not token:
        raise NotAuthenticated("请先登录 (login required)")
    return await staff_of_token(session, token, secret=settings.secret_key)


CurrentStaff = Annotated[Staff, Depends(_current_staff)]
# The bearer token itself, for logout (None when the request carries none).
BearerToken = Annotated[str | None, Depends(oauth2)]


def _client_address(request: Request) -> str:
    """The client's address as the server sees it: logins are throttled by it. Behind a reverse proxy run uvicorn
    with ``--proxy-headers --forwarded-allow-ips=<the proxy>``, so that it is the client's and not the proxy's."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(_client_address)]


# --- the party portal (seed 001 第九条): a party token, never a staff one ---
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402

from api.portal_auth import PortalUser, party_of_token  # noqa: E402

portal_bearer = HTTPBearer(auto_error=False, scheme_name="PartyBearer", description="POST /api/portal/token")


async def _current_party(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(portal_bearer)],
) -> PortalUser:
    if credentials is None:
        raise NotAuthenticated("请先凭证件号码、手机号码和查询码登录 (login required)")
    return await party_of_token(session, credentials.credentials, secret=settings.secret_key)


CurrentParty = Annotated[PortalUser, Depends(_current_party)]
