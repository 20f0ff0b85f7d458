"""API tests: the real app over ASGI, a real worker on the dev server, a migrated and seeded database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities import Deps
from api.app import create_app
from core.settings import Settings
from db.demo import DEMO_PASSWORD, seed
from db.engine import make_engine, make_sessions
from tests.conftest import RunningWorker, make_settings, outbox


@dataclass
class Api:
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    worker: RunningWorker
    _tokens: dict[str, str]
    app: FastAPI

    async def login(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = await self.http.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    async def as_(self, username: str, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**(await self.login(username)), **kw.pop("headers", {})}
        return await self.http.request(method, url, headers=headers, **kw)


async def running_api(env: WorkflowEnvironment, db_url: str, **overrides: Any) -> AsyncIterator[Api]:
    settings = make_settings(database_url=db_url, **overrides)
    engine = make_engine(db_url)
    sessions = make_sessions(engine)
    async with sessions() as s:
        await seed(s)
    worker = RunningWorker(env.client, settings, Deps(sessions, outbox()))
    await worker.start()
    app = create_app(settings, temporal=env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://yg.test") as http:
            yield Api(http, sessions, settings, worker, {}, app)
    if worker.worker is not None:
        await worker.stop()
    await engine.dispose()


@pytest.fixture
async def api(dev_env: WorkflowEnvironment, db_url: str) -> AsyncIterator[Api]:
    async for a in running_api(dev_env, db_url):
        yield a
