"""Staff login: OAuth2 password flow → bearer token (API.md → Staff authentication)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentStaff, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.schemas import Token
from api.security import authenticate, issue_token
from domain.errors import NotAuthenticated

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/token")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> Token:
    staff = await authenticate(session, form.username, form.password)
    if staff is None:
        raise NotAuthenticated("用户名或密码错误 (wrong username or password)", kind="WrongCredentials")
    token = issue_token(
        username=staff.username, role=staff.role, secret=settings.secret_key, minutes=settings.token_minutes
    )
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


@router.get("/me")
async def me(staff: CurrentStaff) -> dict[str, str]:
    return {
        "username": staff.username,
        "name": staff.name,
        "role": staff.role,
        "court_code": staff.court_code,
    }
