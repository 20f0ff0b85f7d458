"""The FastAPI application: resources live in the lifespan, routers are registered here."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import court_info, documents, errors, filing, messages, parties, portal_pages, qr
from api.edge import Edge
from api.routes import (
    admin,
    admin_pages,
    approvals,
    auth,
    calendar,
    cases,
    closure,
    codec,
    courts,
    docs,
    extensions,
    feedback,
    leader_pages,
    pages,
    portal,
    public,
    public_pages,
    sms,
    supervision,
    workbench_pages,
)
from api.routes import documents as document_routes
from api.routes import (
    messages as message_routes,
)
from api.routes import parties as party_routes
from core.files import build_store
from core.redaction import install_log_redaction
from core.settings import Settings
from core.temporal import connect
from db.engine import make_engine, make_sessions


def create_app(settings: Settings | None = None, *, temporal: Client | None = None) -> FastAPI:
    settings = settings or Settings()
    install_log_redaction()  # no SQL parameters, ID or phone numbers in any log record (decision 6)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.sessions = make_sessions(engine)
        app.state.temporal = temporal or await connect(settings)
        app.state.files = build_store(settings)  # the file store of YG_FILE_STORE (core/files.py)
        # Cases filed while Temporal was unreachable get their workflow once it is back (api/filing.py).
        starter = asyncio.create_task(
            filing.keep_starting_unstarted_cases(app.state.sessions, lambda: app.state.temporal, settings)
        )
        # Messages and replies whose request answered 503 and was not retried reach their case (api/messages.py).
        announcer = asyncio.create_task(messages.keep_announcing(app.state.sessions, lambda: app.state.temporal))
        # E-service and downloads whose request answered 503 and was not retried reach their case (api/documents.py).
        server = asyncio.create_task(documents.keep_serving(app.state.sessions, lambda: app.state.temporal))
        # Changes of parties whose SMS no one told the workflow to send (a 503 not repeated) (api/parties.py).
        party_announcer = asyncio.create_task(parties.keep_announcing(app.state.sessions, lambda: app.state.temporal))
        yield
        party_announcer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await party_announcer
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        starter.cancel()
        announcer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starter
        with contextlib.suppress(asyncio.CancelledError):
            await announcer
        await engine.dispose()

    app = FastAPI(
        title="阳光执行 Yangguang",
        version="1",
        description="执行案件流程公开：每个执行案件是一个持久的 Temporal 工作流。",
        lifespan=lifespan,
        docs_url=None,  # served by api/routes/docs.py from the app's own assets (no CDN)
        redoc_url=None,
    )
    errors.install(app)
    # Before any route reads a byte: body limits, NUL and broken text in the URL; around all: the 5xx shape.
    app.add_middleware(Edge, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    for module in (
        auth,
        courts,
        cases,
        extensions,
        closure,
        approvals,
        feedback,
        message_routes,
        party_routes,
        sms,
        calendar,
        supervision,
        admin,
        public,
        public_pages,
        court_info,
        portal,
        leader_pages,
        workbench_pages,
        pages,
        portal_pages,
        qr,
        admin_pages,
        codec,
        docs,
    ):
        app.include_router(module.router)
    app.include_router(document_routes.router)  # API.md → Documents and e-service
    app.include_router(document_routes.pages)  # their console and portal pages
    return app
