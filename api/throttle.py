"""Limits on guessing a secret (a party's query code, a staff password), decided before the secret is checked.

One attempt at a time decides on a key (a lock per key): it counts the other attempts of the window — failures, and
attempts being judged — and records itself, committed, before any secret is checked. So guesses sent at once
cannot all be judged against the same old count (issue 9: 40 concurrent wrong query codes were judged 19 times, and
a right code was accepted after 23 wrong ones): each judged attempt saw every one judged before it, at most
``max_failures`` are judged in a window however many run at once, and every attempt not proved good counts.

- Enough failures: refused (429 with Retry-After), and the attempt counts as a failure, so a right code after 40
  wrong ones is refused until the window has passed.
- Fewer failures, but others being judged make up the limit (logins at the same moment, a script's say): the
  attempt waits for their outcome, a few seconds at most, and decides again; so right passwords sent at once all
  get in, and wrong ones wait for the failures that will refuse them.
- Judged wrong: a failure. Judged right: its records go, with the failures of what it proved.

An attempt abandoned while judged (a request cancelled) counts as a failure after ``STALE``. Keys are hashes, so
the tables hold no username, ID number or address."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db import queries
from db.queries import LoginFailureModel
from domain.errors import TooManyAttempts

# How long an attempt waits for others pending at the same moment, and when a pending one counts as abandoned.
BUSY_WAIT = timedelta(seconds=5)
STALE = timedelta(seconds=60)


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


def key_of(*parts: str) -> str:
    """The hash a limit is kept under (no personal data in the table)."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _refused(wait: timedelta) -> TooManyAttempts:
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    return TooManyAttempts(
        f"登录失败次数过多，请{minutes}分钟后再试 (too many failed attempts, retry after {seconds} s)",
        retry_after=seconds,
    )


async def begin(session: AsyncSession, model: LoginFailureModel, limits: Sequence[Limit]) -> Attempt:
    """Decide, holding the keys' locks: too many failures → 429 (and this attempt counts); too many being judged →
    wait for them and decide again; otherwise this attempt is recorded as being judged and the secret may be
    checked."""
    keys = [lim.key for lim in limits]
    give_up = asyncio.get_running_loop().time() + BUSY_WAIT.total_seconds()
    while True:
        now = datetime.now(UTC)
        await queries.lock_login_keys(session, keys=keys)
        ids = await queries.add_login_attempts(session, model=model, keys=keys, at=now)
        wait, busy = timedelta(), False
        for lim in limits:
            recorded = await queries.login_attempts_since(session, model=model, key=lim.key, since=now - lim.window)
            others = [(at, pending and at > now - STALE) for row_id, at, pending in recorded if row_id not in ids]
            failures = sorted(at for at, pending in others if not pending)
            if len(failures) >= lim.max_failures:
                # Judged again once all but max_failures - 1 of them have left the window.
                wait = max(wait, failures[len(failures) - lim.max_failures] + lim.window - now)
            elif len(others) >= lim.max_failures:
                busy = True
        timed_out = busy and asyncio.get_running_loop().time() > give_up
        if wait > timedelta() or timed_out:
            await queries.judge_login_attempts(session, model=model, ids=ids)
            await session.commit()
            raise _refused(max(wait, timedelta(seconds=1)))
        if not busy:
            await session.commit()
            return Attempt(model=model, ids=tuple(ids))
        await queries.delete_login_attempts(session, model=model, ids=ids)
        await session.commit()
        await asyncio.sleep(random.uniform(0.02, 0.1))  # the others' outcome: an argon2 check takes about that


async def failed(session: AsyncSession, attempt: Attempt, *, window: timedelta) -> None:
    """A wrong secret: the attempt's records become failures; failures too old to count are dropped."""
    await queries.judge_login_attempts(session, model=attempt.model, ids=attempt.ids)
    await queries.prune_login_attempts(session, model=attempt.model, before=datetime.now(UTC) - window)
    await session.commit()


async def succeeded(session: AsyncSession, attempt: Attempt, *, clear: Sequence[str]) -> None:
    """A good secret: the attempt's records go, and the failures of the keys it proved (``clear``)."""
    await queries.delete_login_attempts(session, model=attempt.model, ids=attempt.ids, keys=clear)
    await session.commit()
