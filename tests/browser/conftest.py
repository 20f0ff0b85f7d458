"""Browser tests: the real app under uvicorn, a real worker on the dev server, headless Debian Chromium."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Locator, Page, async_playwright, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities import Deps
from api.app import create_app
from core.settings import Settings
from db.demo import DEMO_PASSWORD, seed
from db.engine import make_engine, make_sessions
from db.models import Node, SmsMessage
from tests.api.helpers import case_body
from tests.conftest import PhonesOutbox, RunningWorker, make_settings, outbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The read model and the SMS are written by activities a moment after the page returns.
expect.set_options(timeout=20_000)


@dataclass
class Console:
    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    phones: PhonesOutbox  # what the SMS provider handed over, as the recipients' phones keep it
    worker: RunningWorker | None = None  # restartable with other dependencies (tests/api/stuck.py: a failing publisher)

    async def file_case(self, **overrides: Any) -> str:
        """File a case through the JSON API (the registrar of the first basic court); return its id."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            r = await http.post("/api/auth/token", data={"username": "registrar", "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await http.post("/api/cases", json=case_body(**overrides), headers=headers)
            assert r.status_code == 201, r.text
            return str(r.json()["case_id"])

    async def submit_feedback(self, case_id: str) -> str:
        """The handler's progress feedback through the JSON API; return its id."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            r = await http.post("/api/auth/token", data={"username": "handler", "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            body = {"measures": "已冻结被执行人银行存款5万元", "next_steps": "拟于下月评估拍卖其车辆"}
            r = await http.post(f"/api/cases/{case_id}/feedback", json=body, headers=headers)
            assert r.status_code == 201, r.text
            return str(r.json()["feedback_id"])

    async def count_nodes(self, case_id: str) -> int:
        async with self.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(Node).where(Node.case_id == case_id)) or 0)

    async def count_sms(self, case_id: str) -> int:
        """Messages the case sent to its parties."""
        async with self.sessions() as s:
            query = (
                select(func.count())
                .select_from(SmsMessage)
                .where(SmsMessage.case_id == case_id, SmsMessage.recipient.startswith("party:"))
            )
            return int(await s.scalar(query) or 0)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def console(dev_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Console]:
    """The app served by uvicorn in a thread (its own event loop), the worker in the test's loop."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    # the portal's address in the filing SMS and the QR code: this server's
    settings = make_settings(database_url=sqlite_url, public_base_url=f"http://127.0.0.1:{port}")
    engine = make_engine(sqlite_url)
    sessions = make_sessions(engine)
    async with sessions() as s:
        await seed(s)
    phones = outbox()
    worker = RunningWorker(dev_env.client, settings, Deps(sessions, phones))
    await worker.start()
    app = create_app(settings, temporal=dev_env.client)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", loop="asyncio", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="yg-uvicorn", daemon=True)
    thread.start()
    try:
        for _ in range(400):
            if server.started or not thread.is_alive():
                break
            await asyncio.sleep(0.025)
        assert server.started, "uvicorn did not start"
        yield Console(f"http://127.0.0.1:{port}", sessions, settings, phones, worker)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)
        sock.close()
        await worker.stop()
        await engine.dispose()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Browser, console: Console) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=console.base_url, locale="zh-CN", timezone_id="Asia/Shanghai")
    p = await context.new_page()
    yield p
    await context.close()


async def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto("/login")
    await page.locator("[name=username]").fill(username)
    await page.locator("[name=password]").fill(password)
    await page.get_by_role("button", name="登录").click()


# Resolves once the image has loaded (0 if it failed or never came): `to_be_visible` passes on the <img> box alone.
_LOADED_WIDTH = """img => img.complete ? img.naturalWidth : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth), {once: true});
    img.addEventListener("error", () => done(0), {once: true});
    setTimeout(() => done(0), 20000);
})"""


async def loaded_width(image: Locator) -> int:
    """The natural width of the image the page shows, waiting for it to arrive (lazy images are scrolled to)."""
    await image.scroll_into_view_if_needed()
    return int(await image.evaluate(_LOADED_WIDTH))
