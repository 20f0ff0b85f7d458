"""The administrator's pages over HTTP (issue 11 item 4): a stuck case on the stuck list and its history with the
failing step, in Chinese without personal data; users kept only within the admin's court tree, audited, and bad
input refused in Chinese without a change."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from db.demo import DEMO_PASSWORD
from db.models import Staff, StaffChange
from tests.api.conftest import Api
from tests.api.helpers import eventually
from tests.api.stuck import LEAKED_ID, LEAKED_NAME, restart_worker
from tests.api.test_stuck_cases import _stuck_case

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@asynccontextmanager
async def _console(api: Api, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the same app, logged in on the console (the cookie)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://yg.test") as http:
        r = await http.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"})
        assert r.status_code == 303, r.text
        yield http


async def _text(http: httpx.AsyncClient, url: str, status: int = 200) -> str:
    r = await http.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    return r.text


async def _count(api: Api, model: type, **where: object) -> int:
    async with api.sessions() as s:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(await s.scalar(query) or 0)


@sqlite_only
async def test_a_stuck_case_is_on_the_stuck_page_and_its_history_shows_the_failing_step(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, case_number, _ = await _stuck_case(api, monkeypatch)
    async with _console(api, "admin") as http:
        page = await eventually(
            lambda: _text(http, "/admin/stuck"), lambda t: case_number in t and "OperationalError" in t, seconds=20
        )
        assert f"/admin/cases/{case_id}/history" in page
        assert "公开名单" in page  # the step by its Chinese summary
        for secret in (LEAKED_ID, LEAKED_NAME, "INSERT"):
            assert secret not in page

        history = await _text(http, f"/admin/cases/{case_id}/history")
        pending = history.split("正在等待的步骤")[1].split("第1段运行")[0]
        assert "公开名单" in pending and "已失败" in pending and "OperationalError" in pending
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}", history)
        for secret in (LEAKED_ID, LEAKED_NAME, "INSERT"):
            assert secret not in history
        # another court's admin sees neither
        async with _console(api, "admin2") as other:
            assert case_number not in await _text(other, "/admin/stuck")
            await _text(other, f"/admin/cases/{case_id}/history", status=404)
            lookup = await _text(other, f"/admin/history?case={case_number}", status=404)
            assert "未找到案号" in lookup
    await restart_worker(api, None)


@sqlite_only
async def test_users_are_kept_only_within_the_admins_court_tree(api: Api) -> None:
    async with api.sessions() as s:
        handler_a = await s.scalar(select(Staff.id).where(Staff.username == "handler"))
        admin_a = await s.scalar(select(Staff.id).where(Staff.username == "admin"))
    async with _console(api, "admin2") as other:
        # 盘龙区's admin cannot touch 五华区's handler, nor create a user there
        r = await other.post(f"/admin/users/{handler_a}/deactivate")
        assert r.status_code == 404 and "不在本院管理范围内" in r.text
        r = await other.post(
            "/admin/users", data={"username": "wuhua9", "name": "越权", "role": "handler", "court_code": "YN0102"}
        )
        assert r.status_code == 422 and "请选择本院或下级法院" in r.text
        assert "五华区" not in (await _text(other, "/admin/users")).split("用户列表")[1].split("变更记录")[0]
    async with _console(api, "high_admin") as high:
        # the high court's admin keeps the courts below it
        r = await high.post(
            "/admin/users",
            data={"username": "wuhua9", "name": "钱新人", "role": "handler", "court_code": "YN0102"},
        )
        assert r.status_code == 200 and "已新建用户" in r.text
        r = await high.post(
            "/admin/users", data={"username": "wuhua9", "name": "重复", "role": "handler", "court_code": "YN0102"}
        )
        assert r.status_code == 409 and "已被使用" in r.text
        r = await high.post(f"/admin/users/{handler_a}/role", data={"role": "clerk"})
        assert r.status_code == 303
    async with api.sessions() as s:
        assert await s.scalar(select(Staff.role).where(Staff.id == handler_a)) == "clerk"
    assert await _count(api, Staff, username="wuhua9") == 1
    assert await _count(api, StaffChange, staff_id=handler_a, kind="role") == 1
    async with _console(api, "admin") as own:
        r = await own.post(f"/admin/users/{admin_a}/deactivate")
        assert r.status_code == 403 and "不能停用自己的账号" in r.text
        r = await own.post("/admin/users", data={"username": "1x", "name": "", "role": "handler", "court_code": ""})
        assert r.status_code == 422 and "用户名须以字母开头" in r.text
        r = await own.post(
            "/admin/users",
            data={"username": "ok_name", "name": "某人", "role": "handler", "court_code": "YN0102", "mobile": "1111"},
        )
        assert r.status_code == 422
        assert "ok_name" in r.text  # the form is drawn again with what was typed
    assert await _count(api, Staff, username="ok_name") == 0
    async with api.sessions() as s:
        assert await s.scalar(select(Staff.active).where(Staff.id == admin_a)) is True


@sqlite_only
async def test_a_reset_password_works_once_shown_and_the_old_one_no_longer_does(api: Api) -> None:
    async with api.sessions() as s:
        clerk = await s.scalar(select(Staff.id).where(Staff.username == "clerk"))
    # Logged in before the reset (an account taken over, often the reason for one): logged out by it.
    before = await api.login("clerk")
    assert (await api.http.get("/api/inbox", headers=before)).status_code == 200
    async with _console(api, "admin") as http:
        r = await http.post(f"/admin/users/{clerk}/password")
        assert r.status_code == 200
        m = re.search(r'data-testid="password">([^<]+)<', r.text)
        assert m is not None
        password = m.group(1)
    old = await api.http.post("/api/auth/token", data={"username": "clerk", "password": DEMO_PASSWORD})
    assert old.status_code == 401
    new = await api.http.post("/api/auth/token", data={"username": "clerk", "password": password})
    assert new.status_code == 200
    ended = await api.http.get("/api/inbox", headers=before)
    assert ended.status_code == 401 and ended.json()["error"] == "TokenSuperseded"
    assert "密码已重置" in ended.json()["detail"]
    fresh = {"Authorization": f"Bearer {new.json()['access_token']}"}
    assert (await api.http.get("/api/inbox", headers=fresh)).status_code == 200
    assert await _count(api, StaffChange, staff_id=clerk, kind="password") == 1
    async with api.sessions() as s:
        change = await s.scalar(select(StaffChange).where(StaffChange.staff_id == clerk))
        assert change is not None and password not in f"{change.old_value}{change.new_value}"
