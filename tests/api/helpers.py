"""Request bodies and waits shared by the API tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from db.demo import DEMO_PASSWORD
from domain.clock import BEIJING

if TYPE_CHECKING:
    from tests.api.conftest import Api

T = TypeVar("T")
_numbers = itertools.count(100)


def case_body(**overrides: Any) -> dict[str, Any]:
    n = next(_numbers)
    filed_on = datetime.now(BEIJING).date() - timedelta(days=2)
    body: dict[str, Any] = {
        "case_number": f"（{filed_on.year}）云0102执{n}号",
        "court_code": "YN0102",
        "cause": "民间借贷纠纷",
        "amount": "50000.00",
        "filed_on": filed_on.isoformat(),
        "has_property": True,
        "handler": "handler",
        "clerk": "clerk",
        "applicants": [
            {
                "name": "张三",
                "id_number": "530102199001012234",
                "phone": f"138{n:08d}",
                "eservice_consent": True,
            }
        ],
        "respondents": [{"name": "李四", "id_number": "530103198505053234", "address": "昆明市五华区某路1号"}],
    }
    body.update(overrides)
    return body


def now_iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).astimezone(BEIJING).isoformat()


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *, seconds: float = 10) -> T:
    """Poll until ``ok`` holds (the read model is written by activities, a moment after the update)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await probe()
        if ok(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[int]:
    """The app on a real uvicorn server in this event loop (its lifespan already running), on a free port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
        await asyncio.sleep(0.02)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        await task


async def console_page(api: Api, username: str, url: str) -> httpx.Response:
    """A console page as the user sees it, logged in through the login form (its cookie, not a token); the cookie
    is cleared first, so the page is this user's."""
    api.http.cookies.clear()
    r = await api.http.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"})
    assert r.status_code == 303, r.text
    page: httpx.Response = await api.http.get(url)
    return page
