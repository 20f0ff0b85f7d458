"""The FastAPI application: resources live in the lifespan, routers are registered here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import announcer, court_info, documents, errors, filing, messages, parties, portal_pages, qr
from api.announcer import Round
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
        sessions, temporal_now = app.state.sessions, lambda: app.state.temporal  # a test may swap the client
        async with announcer.running(
            # Cases filed while Temporal was unreachable get their workflow once it is back (api/filing.py).
            Round(
                "starting unstarted cases",
                filing.ORPHAN_SCAN_INTERVAL,
                lambda: filing.start_unstarted_cases(sessions, temporal_now(), settings),
            ),
            # Messages and replies whose request answered 503 and was not retried reach their case (api/messages.py).
            Round(
                "announcing messages",
                messages.ANNOUNCE_INTERVAL,
                lambda: messages.announce_pending(sessions, temporal_now()),
            ),
            # E-service and downloads whose request answered 503 and was not retried reach their case (documents.py).
            Round(
                "announcing e-service",
                documents.SERVE_INTERVAL,
                lambda: documents.serve_pending(sessions, temporal_now()),
            ),
            # Changes of parties whose SMS no one told the workflow to send (a 503 not repeated) (api/parties.py).
            Round(
                "announcing party changes",
                parties.ANNOUNCE_INTERVAL,
                lambda: parties.announce_pending(sessions, temporal_now()),
            ),
        ):
            yield
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
