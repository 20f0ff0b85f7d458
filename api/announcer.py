"""Rounds every API process runs beside its requests, each finishing what a 503 left and no one retried (filing,
messages, documents, parties); a failing round is retried by the next and never stops the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    """One part's catch-up: what it does (named in the log), how often, and the round itself."""

    name: str
    interval: timedelta
    run: Callable[[], Awaitable[object]]


async def repeat(round_: Round) -> None:
    """Run the round every interval until cancelled; a failure is logged by its type only (it names no party)."""
    while True:
        await asyncio.sleep(round_.interval.total_seconds())
        try:
            await round_.run()
        except Exception as e:  # a round that fails is retried by the next
            log.warning("%s failed: %s", round_.name, type(e).__name__)


@asynccontextmanager
async def running(*rounds: Round) -> AsyncIterator[None]:
    """Repeat every round while the block runs (the app's lifespan); cancel and await them all when it ends."""
    tasks = [asyncio.create_task(repeat(r), name=r.name) for r in rounds]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
