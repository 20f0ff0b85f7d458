"""Staff sign-in: the password checked against its argon2 hash, then JWT bearer tokens with expiry and an id
(``jti``), signed with the settings' secret; logout ends a token before its expiry (issue 9 item 4).

An unknown username costs the same argon2 verification as a known one (against a dummy hash), so the answer's time
tells nothing; guessing is throttled per username and per client address, counted before the password is checked
(api/throttle.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from api import throttle
from db import queries
from db.models import Staff, StaffLoginFailure
from domain.errors import NotAuthenticated
from domain.secrets import hashed, verified

ALGORITHM = "HS256"
WRONG_LOGIN = "用户名或密码错误 (wrong username or password)"
# Guessing passwords: failures per username, and per client address (a court's users may share one address), in a
# window; past either, 429 with Retry-After until the window lets one more through. Read at each login (tests
# lower them).
FAILURE_WINDOW = timedelta(minutes=15)
MAX_USER_FAILURES = 10
MAX_ADDRESS_FAILURES = 50

_dummy: list[str] = []


async def _dummy_hash() -> str:
    """Verified when no active staff member has the username, so an unknown name costs what a known one does."""
    if not _dummy:
        _dummy.append(await hashed(uuid.uuid4().hex))
    return _dummy[0]


async def authenticate(session: AsyncSession, username: str, password: str) -> Staff | None:
    """The active staff member with this password, or None; argon2 runs off the event loop, for unknown and
    disabled usernames too (against a dummy hash), so the time of the answer does not tell them apart."""
    staff = await queries.staff_by_username(session, username=username)
    if staff is None or not staff.active:
        await verified(await _dummy_hash(), password)
        return None
    return staff if await verified(staff.password_hash, password) else None


async def login(session: AsyncSession, username: str, password: str, *, address: str) -> Staff:
    """The staff member, if the password is right and neither the username nor the client address has failed too
    often lately (429 otherwise, even for the right password); a wrong password is one generic 401."""
    user_key, address_key = throttle.key_of("user", username), throttle.key_of("address", address)
    attempt = await throttle.begin(
        session,
        StaffLoginFailure,
        [
            throttle.Limit(user_key, MAX_USER_FAILURES, FAILURE_WINDOW),
            throttle.Limit(address_key, MAX_ADDRESS_FAILURES, FAILURE_WINDOW),
        ],
    )
    staff = await authenticate(session, username, password)
    if staff is None:
        await throttle.failed(session, attempt, window=FAILURE_WINDOW)
        raise NotAuthenticated(WRONG_LOGIN, kind="WrongCredentials")
    await throttle.succeeded(session, attempt, clear=[user_key])
    return staff


@dataclass(frozen=True)
class TokenClaims:
    username: str
    jti: str
    expires_at: datetime
    epoch: int  # the account's login epoch when the token was issued (Staff.login_epoch)


def issue_token(staff: Staff, *, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": staff.username,
        "role": staff.role,
        "ep": staff.login_epoch,  # a reset password raises the account's epoch: older tokens are refused
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> TokenClaims:
    """What a valid, unexpired token says (a token without an id, issued before logout existed, is refused)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("登录已过期，请重新登录 (token expired)", kind="TokenExpired") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("登录凭证无效，请重新登录 (invalid token)", kind="InvalidToken") from None
    return TokenClaims(
        username=str(claims["sub"]),
        jti=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        epoch=int(claims.get("ep", 0)),
    )


async def staff_of_token(session: AsyncSession, token: str, *, secret: str) -> Staff:
    """The active staff member a valid token was issued to, unless it was ended by logout or by a password reset."""
    claims = read_token(token, secret=secret)
    staff = await queries.staff_of_live_token(session, username=claims.username, jti=claims.jti)
    if staff is not None and staff.active:
        if staff.login_epoch != claims.epoch:
            raise NotAuthenticated("密码已重置，请用新密码重新登录 (password reset)", kind="TokenSuperseded")
        return staff
    if await queries.token_revoked(session, jti=claims.jti):
        raise NotAuthenticated("已退出登录，请重新登录 (logged out)", kind="TokenRevoked")
    raise NotAuthenticated("账号不存在或已停用 (account unknown or disabled)", kind="InvalidToken")


async def logout(session: AsyncSession, token: str, *, secret: str) -> None:
    """End the token now: its id is refused until it would have expired (then forgotten, with others')."""
    claims = read_token(token, secret=secret)
    now = datetime.now(UTC)
    await queries.revoke_token(session, jti=claims.jti, expires_at=claims.expires_at, at=now)
    await queries.prune_revoked_tokens(session, before=now)
    await session.commit()
