"""Limits on guessing a secret (a party's query code, a staff password), counted before the secret is checked.

Every attempt is recorded and committed first, and only then are the attempts of the window counted, so guesses
sent at once cannot all be judged against the same old count: the k-th attempt committed counts at least k, so at
most ``max_failures`` are judged in a window, however many run concurrently (issue 9: 40 concurrent wrong query
codes were judged 19 times). Every attempt that is not proved good counts, refused ones too: after 40 guesses a
right code is refused until the window has passed, and guessing on keeps it closed. A good attempt removes its
records and the failures of what it proved. Keys are hashes, so the tables hold no username, ID number or address."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db import queries
from db.queries import LoginFailureModel
from domain.errors import TooManyAttempts


@dataclass(frozen=True)
class Limit:
    """At most ``max_failures`` failed attempts on ``key`` in ``window``."""

    key: str
    max_failures: int
    window: timedelta


@dataclass(frozen=True)
class Attempt:
    """The records of one attempt, one per limit."""

    model: LoginFailureModel
    ids: tuple[int, ...]
    keys: tuple[str, ...]


def key_of(*parts: str) -> str:
    """The hash a limit is kept under (no personal data in the table)."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def begin(session: AsyncSession, model: LoginFailureModel, limits: Sequence[Limit], *, now: datetime) -> Attempt:
    """Record the attempt under each limit's key and commit, then count: past any limit it is refused (429 with the
    seconds until one more attempt would be judged, if no other came) and stays counted."""
    ids = await queries.add_login_attempts(session, model=model, keys=[lim.key for lim in limits], at=now)
    await session.commit()
    attempt = Attempt(model=model, ids=tuple(ids), keys=tuple(lim.key for lim in limits))
    wait = timedelta()
    for lim in limits:
        recorded = await queries.login_attempts_since(session, model=model, key=lim.key, since=now - lim.window)
        others = [at for row_id, at in recorded if row_id not in attempt.ids]
        if len(others) >= lim.max_failures:
            # Judged again once all but max_failures - 1 of the others have left the window.
            wait = max(wait, sorted(others)[len(others) - lim.max_failures] + lim.window - now)
    if wait > timedelta():
        seconds = max(1, math.ceil(wait.total_seconds()))
        minutes = max(1, math.ceil(seconds / 60))
        raise TooManyAttempts(
            f"登录失败次数过多，请{minutes}分钟后再试 (too many failed attempts, retry after {seconds} s)",
            retry_after=seconds,
        )
    return attempt


async def failed(session: AsyncSession, attempt: Attempt, *, window: timedelta, now: datetime) -> None:
    """A wrong secret: the attempt's records stay as failures; failures too old to count are dropped."""
    await queries.prune_login_attempts(session, model=attempt.model, before=now - window)
    await session.commit()


async def succeeded(session: AsyncSession, attempt: Attempt, *, clear: Sequence[str]) -> None:
    """A good secret: the attempt's records go, and the failures of the keys it proved (``clear``)."""
    await queries.delete_login_attempts(session, model=attempt.model, ids=attempt.ids)
    for key in clear:
        await queries.clear_login_attempts(session, model=attempt.model, key=key)
    await session.commit()
