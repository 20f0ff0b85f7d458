"""Party login to the portal (seed 001 第九条): ID number + mobile + query code → a party token.

A party token is signed with a key derived from the settings' secret and carries its own audience, so it is
refused on every staff endpoint, and a staff token is refused here. It also carries a fingerprint of the
party's query-code hash: when the query code changes (an agent dismissed, seed 002 第四条) old tokens stop working.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from api import throttle
from api.schemas import PortalLoginIn, Token
from api.security import ALGORITHM
from db import queries
from db.models import Case, Party, PortalLoginFailure
from domain.case_numbers import parse_case_number
from domain.clock import beijing_date, format_day
from domain.errors import Forbidden, InvalidInput, NotAuthenticated
from domain.identity import normalise as normalise_id_number
from domain.phones import normalise
from domain.secrets import hashed, verified

PORTAL_AUDIENCE = "yangguang-portal"
PORTAL_SCOPE = "party"
PORTAL_TOKEN_MINUTES = 30
# Who may query (seed 002 第三条): the applicant and its agents; respondents receive no query code.
PORTAL_ROLES = ("applicant", "agent")
# Guessing a query code: at most 5 failures per case number and ID number in 15 minutes.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
WRONG_LOGIN = "案号、证件号码、手机号码或查询码不正确 (wrong login data)"


def may_log_in(party: Party) -> bool:
    """Applicants and agents query the case (seed 002 第三条); a respondent who consented to e-service logs in to
    receive the documents served on it (seed 001 第九条、第十一条), with the query code its first one brought."""
    return party.role in PORTAL_ROLES or (party.role == "respondent" and party.eservice_consent)


@dataclass(frozen=True)
class PortalUser:
    """The logged-in party and its case."""

    party: Party
    case: Case


def _signing_key(secret: str) -> str:
    """Party tokens are signed with their own key: a staff token can never verify as a party token."""
    return hashlib.sha256(f"portal:{secret}".encode()).hexdigest()


def code_fingerprint(query_code_hash: str) -> str:
    return hashlib.sha256(query_code_hash.encode()).hexdigest()[:16]


def issue_party_token(party: Party, *, secret: str, minutes: int = PORTAL_TOKEN_MINUTES) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": f"party:{party.id}",
        "aud": PORTAL_AUDIENCE,
        "scope": PORTAL_SCOPE,
        "case": party.case_id,
        "qc": code_fingerprint(party.query_code_hash or ""),
        "ep": party.login_epoch,  # raised when the case's logins end (an agent dismissed): older tokens are refused
        "jti": uuid.uuid4().hex,  # logout ends this token (the staff tokens' revocation list)
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, _signing_key(secret), algorithm=ALGORITHM)


def _claims(token: str, *, secret: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key(secret),
            algorithms=[ALGORITHM],
            audience=PORTAL_AUDIENCE,
            options={"require": ["exp", "sub", "aud", "case", "qc", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("登录已过期，请重新登录 (token expired)", kind="TokenExpired") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("登录凭证无效，请重新登录 (invalid token)", kind="InvalidToken") from None
    return claims


async def portal_logout(session: AsyncSession, token: str, *, secret: str) -> None:
    """End a party token now, as staff logout ends a staff token: its id is refused until it would have expired."""
    claims = _claims(token, secret=secret)
    now = datetime.now(UTC)
    expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    await queries.revoke_token(session, jti=str(claims["jti"]), expires_at=expires_at, at=now)
    await queries.prune_revoked_tokens(session, before=now)
    await session.commit()


def query_ended(case: Case, now: datetime) -> bool:
    """Online query ends one month after closure (seed 002 第四条, rule query-1m: ``cases.query_ends_at``)."""
    return case.query_ends_at is not None and now > case.query_ends_at


def query_ended_message(case: Case) -> str:
    """What a party reads once the online query has ended, in plain words: when the case closed, when the query
    ended, and whom to call instead — the handler and the clerk with their office phones (seed 001 第三条(二)), or
    the court when no one is named."""
    closed = f"已于{format_day(beijing_date(case.closed_at))}结案" if case.closed_at else "已结案"
    ended = f"已于{format_day(beijing_date(case.query_ends_at))}截止" if case.query_ends_at else "已截止"
    contacts = [
        f"{title}{person.name}（办公电话{person.office_phone}）" if person.office_phone else f"{title}{person.name}"
        for title, person in (("承办法官", case.handler), ("书记员", case.clerk))
        if person is not None
    ]
    call = f"请致电{'或'.join(contacts)}" if contacts else f"请致电{case.court.name}"
    return f"本案{closed}，网上查询{ended}（案件办结后一个月不再提供网上查询）。如需了解情况，{call}。"


def check_query_open(case: Case, now: datetime) -> None:
    """Online query ends one month after closure (seed 002 第四条, rule query-1m)."""
    if query_ended(case, now):
        raise Forbidden(query_ended_message(case), kind="QueryEnded")


async def party_of_token(session: AsyncSession, token: str, *, secret: str) -> PortalUser:
    """The party a valid portal token was issued to, while its query code and the online query last."""
    claims = _claims(token, secret=secret)
    if await queries.token_revoked(session, jti=str(claims["jti"])):
        raise NotAuthenticated("已退出登录，请重新登录 (logged out)", kind="TokenRevoked")
    kind, _, ident = str(claims["sub"]).partition(":")
    party = await session.get(Party, int(ident)) if kind == "party" and ident.isdigit() else None
    if (
        party is None
        or claims.get("scope") != PORTAL_SCOPE
        or party.case_id != claims["case"]
        or not may_log_in(party)
        or not party.query_code_hash
        or code_fingerprint(party.query_code_hash) != claims["qc"]
    ):
        raise NotAuthenticated("查询码已变更或登录凭证无效，请重新登录 (invalid token)", kind="InvalidToken")
    if party.dismissed_at is not None or claims.get("ep", 0) != party.login_epoch:
        # An agent dismissed ends every login of the case's parties at once (seed 002 第四条; api/parties.py).
        raise NotAuthenticated(
            "本案委托代理关系已变更，此前的登录已失效，请重新登录；查询码如有更换，以短信通知为准 (login ended)",
            kind="LoginEnded",
        )
    case = await queries.case_by_id(session, case_id=party.case_id)
    assert case is not None  # a party row always has its case
    check_query_open(case, datetime.now(UTC))
    return PortalUser(party=party, case=case)


def _case_number(raw: str) -> str:
    try:
        return parse_case_number(raw).text
    except InvalidInput:
        return raw.strip()


def _id_number(raw: str) -> str:
    """As filing stores it: half-width, upper case (the check character X is often typed lower case), no spaces."""
    return normalise_id_number(raw)


_decoy: list[str] = []


async def _decoy_hash() -> str:
    """Verified when no party matches, so a wrong case number costs the same time as a wrong query code."""
    if not _decoy:
        _decoy.append(await hashed("decoy-query-code"))
    return _decoy[0]


async def portal_login(session: AsyncSession, body: PortalLoginIn, *, secret: str) -> Token:
    """Check the four items; one generic answer for any mismatch, and a limit on failures (seed 001 第九条) that is
    counted before the query code is checked, so concurrent guesses cannot exceed it (api/throttle.py)."""
    number, id_number = _case_number(body.case_number), _id_number(body.id_number)
    phone, code = normalise(body.phone), body.query_code.strip().upper()
    key = throttle.key_of(number, id_number)
    attempt = await throttle.begin(session, PortalLoginFailure, [throttle.Limit(key, MAX_FAILURES, FAILURE_WINDOW)])
    case = await queries.case_by_number(session, case_number=number)
    candidates = [
        p
        for p in (case.parties if case else [])
        if may_log_in(p)
        and p.query_code_hash
        and p.dismissed_at is None
        and _id_number(p.id_number or "") == id_number
        and p.phone == phone
    ]
    party = None
    for p in candidates:
        if await verified(p.query_code_hash or "", code):
            party = p
            break
    if not candidates:
        await verified(await _decoy_hash(), code)
    if case is None or party is None:
        await throttle.failed(session, attempt, window=FAILURE_WINDOW)
        raise NotAuthenticated(WRONG_LOGIN, kind="WrongCredentials")
    await throttle.succeeded(session, attempt, clear=[key])
    check_query_open(case, datetime.now(UTC))
    return Token(access_token=issue_party_token(party, secret=secret), expires_in=PORTAL_TOKEN_MINUTES * 60)
