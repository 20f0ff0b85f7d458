"""Staff login: OAuth2 password flow → bearer token (API.md → Staff authentication); logout ends the token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, status

from api import security
from api.deps import BearerToken, ClientAddress, CurrentStaff, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.schemas import LoginForm, Token
from api.security import issue_token

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.post("/token")
async def login(
    form: Annotated[LoginForm, Form()], session: SessionDep, settings: SettingsDep, address: ClientAddress
) -> Token:
    """A bearer token for the username and password; too many failures for the username or from the address →
    429 with Retry-After, whatever the password."""
    staff = await security.login(session, form.username, form.password, address=address)
    token = issue_token(staff, secret=settings.secret_key, minutes=settings.token_minutes)
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(staff: CurrentStaff, token: BearerToken, session: SessionDep, settings: SettingsDep) -> None:
    """End this token now: from then on it is refused on every endpoint, though it has not expired."""
    assert token is not None  # CurrentStaff refused a request without one
    await security.logout(session, token, secret=settings.secret_key)


@router.get("/me")
async def me(staff: CurrentStaff) -> dict[str, str]:
    return {
        "username": staff.username,
        "name": staff.name,
        "role": staff.role,
        "court_code": staff.court_code,
    }
