"""Dependencies as aliases: the session, the Temporal client, the settings, the logged-in staff member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.security import read_token
from core.settings import Settings
from db import queries
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


SessionDep = Annotated[AsyncSession, Depends(_session)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SettingsDep = Annotated[Settings, Depends(_settings)]


async def _current_staff(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> Staff:
    if not token:
        raise NotAuthenticated("请先登录 (login required)")
    username = read_token(token, secret=settings.secret_key)
    staff = await queries.staff_by_username(session, username=username)
    if staff is None or not staff.active:
        raise NotAuthenticated("账号不存在或已停用 (account unknown or disabled)", kind="InvalidToken")
    return staff


CurrentStaff = Annotated[Staff, Depends(_current_staff)]


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
