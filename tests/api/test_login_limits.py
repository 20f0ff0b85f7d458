"""Guessing is bounded (issue 9 items 3, 4): the party login's lockout holds under concurrent guesses, staff logins
answer unknown and known usernames alike and are throttled per username and per client address, and logout ends
the token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from api import portal_auth, security
from db.demo import DEMO_PASSWORD
from db.models import Staff, StaffLoginFailure
from tests.api.conftest import Api
from tests.api.test_portal import file_case


async def test_forty_concurrent_wrong_query_codes_are_judged_at_most_five_times_then_the_right_one_is_refused(
    api: Api,
) -> None:
    """The probe saw 40 concurrent wrong codes judged 19 times, and a right code accepted after 23 wrong ones: the
    attempts are counted, committed, before any code is checked."""
    case = await file_case(api)
    wrong = [case.login(query_code=f"WRONG{n:03d}") for n in range(40)]
    answers = await asyncio.gather(*(api.http.post("/api/portal/token", json=w) for w in wrong))

    judged = [r for r in answers if r.status_code == 401]
    assert len(judged) <= portal_auth.MAX_FAILURES, [r.status_code for r in answers]
    assert {r.status_code for r in answers} <= {401, 429}, [r.text for r in answers if r.status_code not in (401, 429)]
    assert all(r.json()["error"] == "TooManyAttempts" for r in answers if r.status_code == 429)

    right = await api.http.post("/api/portal/token", json=case.login())
    assert right.status_code == 429, right.text
    assert right.json()["error"] == "TooManyAttempts" and "分钟后再试" in right.json()["detail"]
    assert 0 < int(right.headers["Retry-After"]) <= int(portal_auth.FAILURE_WINDOW.total_seconds())


class _Spy:
    """Counts argon2 verifications (api.security.verified) while passing them through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = security.verified

        async def spy(secret_hash: str, secret: str) -> bool:
            self.calls += 1
            return await real(secret_hash, secret)

        monkeypatch.setattr(security, "verified", spy)


async def _token(api: Api, username: str, password: str = DEMO_PASSWORD, **kw: Any) -> httpx.Response:
    http: httpx.AsyncClient = kw.pop("http", api.http)
    return await http.post("/api/auth/token", data={"username": username, "password": password})


def _other_address(api: Api, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=api.app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://yg.test")


async def test_an_unknown_username_costs_the_same_password_check_as_a_known_one(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe told usernames apart by time (4 ms unknown, 121 ms known): an unknown or disabled one is verified
    against a dummy hash, and every wrong login gets the same answer."""
    async with api.sessions.begin() as s:
        await s.execute(update(Staff).where(Staff.username == "discipline2").values(active=False))
    spy = _Spy(monkeypatch)
    answers = set()
    for username in ("nobody-at-all", "handler", "discipline2"):
        before = spy.calls
        r = await _token(api, username, "wrong-password")
        assert r.status_code == 401, r.text
        assert spy.calls == before + 1, username
        answers.add((r.json()["error"], r.json()["detail"]))
    assert len(answers) == 1
    before = spy.calls
    assert (await _token(api, "discipline2")).status_code == 401  # disabled: the right password changes nothing
    assert spy.calls == before + 1


async def test_wrong_passwords_for_one_username_are_throttled_then_the_window_passes(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "MAX_USER_FAILURES", 3)
    for _ in range(3):
        assert (await _token(api, "clerk", "wrong-password")).status_code == 401

    locked = await _token(api, "clerk")  # the right password, after the limit

    assert locked.status_code == 429, locked.text
    assert locked.json()["error"] == "TooManyAttempts" and "登录失败次数过多" in locked.json()["detail"]
    assert 0 < int(locked.headers["Retry-After"]) <= int(security.FAILURE_WINDOW.total_seconds())
    assert (await _token(api, "handler")).status_code == 200  # another username from the same address
    async with api.sessions.begin() as s:  # the failures age past the window
        await s.execute(update(StaffLoginFailure).values(at=datetime.now(UTC) - timedelta(minutes=16)))
    assert (await _token(api, "clerk")).status_code == 200


async def test_wrong_logins_from_one_address_are_throttled_whatever_the_username(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "MAX_ADDRESS_FAILURES", 4)
    async with _other_address(api, "203.0.113.7") as guesser, _other_address(api, "198.51.100.2") as colleague:
        for username in ("registrar", "clerk", "supervisor", "no-such-user"):
            assert (await _token(api, username, "wrong-password", http=guesser)).status_code == 401
        locked = await _token(api, "president", http=guesser)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["Retry-After"]) > 0
        assert (await _token(api, "president", http=colleague)).status_code == 200


async def test_concurrent_wrong_passwords_are_judged_at_most_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(monkeypatch)
    answers = await asyncio.gather(*(_token(api, "supervisor", f"guess-{n}") for n in range(30)))
    judged = [r for r in answers if r.status_code == 401]
    assert len(judged) <= security.MAX_USER_FAILURES and spy.calls == len(judged), [r.status_code for r in answers]
    assert {r.status_code for r in answers} <= {401, 429}
    assert (await _token(api, "supervisor")).status_code == 429


async def test_logout_ends_the_token_on_every_endpoint(api: Api) -> None:
    first = (await _token(api, "handler")).json()["access_token"]
    second = (await _token(api, "handler")).json()["access_token"]
    bearer = {"Authorization": f"Bearer {first}"}
    assert (await api.http.get("/api/auth/me", headers=bearer)).status_code == 200

    r = await api.http.post("/api/auth/logout", headers=bearer)
    assert r.status_code == 204, r.text

    for method, url in (("GET", "/api/auth/me"), ("GET", "/api/inbox"), ("POST", "/api/auth/logout")):
        r = await api.http.request(method, url, headers=bearer)
        assert r.status_code == 401, (url, r.text)
        assert r.json() == {"error": "TokenRevoked", "detail": "已退出登录，请重新登录 (logged out)"}
    assert (await api.http.get("/api/auth/me", headers={"Authorization": f"Bearer {second}"})).status_code == 200
    assert (await api.http.post("/api/auth/logout")).status_code == 401


async def test_the_console_logout_ends_the_cookie_s_token_wherever_it_was_copied(api: Api) -> None:
    async with _other_address(api, "192.0.2.10") as browser:
        r = await browser.post("/login", data={"username": "clerk", "password": DEMO_PASSWORD, "next": "/"})
        assert r.status_code == 303, r.text
        token = r.cookies["yg_token"]
        assert (await browser.get("/", headers={"Cookie": f"yg_token={token}"})).status_code == 200

        r = await browser.post("/logout", headers={"Cookie": f"yg_token={token}"})
        assert r.status_code == 303

        page = await browser.get("/", headers={"Cookie": f"yg_token={token}"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        api_call = await browser.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert api_call.status_code == 401


async def test_the_console_login_is_throttled_too(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "MAX_USER_FAILURES", 2)
    form = {"username": "registrar", "password": "wrong-password", "next": "/"}
    for _ in range(2):
        assert (await api.http.post("/login", data=form)).status_code == 401
    r = await api.http.post("/login", data={**form, "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert "登录失败次数过多" in r.text and "yg_token" not in r.cookies
    assert int(r.headers["Retry-After"]) > 0


async def test_right_logins_at_once_all_succeed(api: Api) -> None:
    """A good login forgets the username's failures: concurrent ones must not deadlock over them (PostgreSQL)."""
    answers = await asyncio.gather(*(_token(api, "handler") for _ in range(12)))
    assert [r.status_code for r in answers] == [200] * 12, [r.text for r in answers if r.status_code != 200]
