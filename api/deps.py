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
