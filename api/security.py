"""Staff sign-in: the password checked against its argon2 hash, then JWT bearer tokens with expiry, signed
with the settings' secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from db import queries
from db.models import Staff
from domain.errors import NotAuthenticated
from domain.secrets import verified

ALGORITHM = "HS256"


async def authenticate(session: AsyncSession, username: str, password: str) -> Staff | None:
    """The active staff member with this password, or None; argon2 runs off the event loop."""
    staff = await queries.staff_by_username(session, username=username)
    if staff is None or not staff.active:
        return None
    return staff if await verified(staff.password_hash, password) else None


def issue_token(*, username: str, role: str, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": username, "role": role, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> str:
    """The username a valid, unexpired token was issued to."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("登录已过期，请重新登录 (token expired)", kind="TokenExpired") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("登录凭证无效，请重新登录 (invalid token)", kind="InvalidToken") from None
    return str(claims["sub"])
