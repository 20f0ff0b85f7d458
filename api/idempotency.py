"""An ``Idempotency-Key`` is bound to its request's body (API.md → Nodes; issue 9 item 5).

The first request with a key on a case claims it with the fingerprint of its body (sha256 of the canonical JSON),
committed before the case's workflow is asked: the claim is a row the API owns (``idempotency_keys``, unique per
case, kind of request and key), because the rows the request ends in (nodes, requests, feedback) are written by the
workflow (decision 1) and exist only once it has answered. So, whatever the timing:

- the same key with another body is refused, 409 ``IdempotencyKeyReused`` naming the key: nothing is dropped
  silently;
- the same key with the same body is a repeat: 200 with the first request's result (the update id derives from the
  key, so a repeat sent while the first is still at work waits for its result, decision 2);
- of identical requests sent at once exactly one claims the key and answers 201, the others 200.

A first request refused (4xx: the guard, the workflow's validator) frees its key, so that the corrected request may
be sent with the same key; one that timed out (503) keeps it, and its retry is a repeat."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from db import queries
from domain.errors import Conflict, InvalidInput, YgError

Scope = Literal["node", "extension", "zhongben", "feedback", "assignment"]
MAX_KEY_LENGTH = 128


def fingerprint(body: BaseModel) -> str:
    """sha256 of the body as canonical JSON (keys sorted, no spaces): the same content gives the same fingerprint."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"Idempotency-Key 不能超过{MAX_KEY_LENGTH}个字符", kind="InvalidIdempotencyKey")
    return key


@dataclass(frozen=True)
class Claim:
    """A key claimed for a body; ``first``: this request claimed it, the others with it are repeats."""

    case_id: str
    scope: Scope
    key: str
    first: bool


async def claim(session: AsyncSession, *, scope: Scope, case_id: str, key: str, body: BaseModel) -> Claim:
    """Claim ``key`` on the case for this body (committed at once); a repeat with the same body is not first, one
    with another body is refused (409)."""
    request_hash = fingerprint(body)
    first = await queries.claim_idempotency_key(
        session, case_id=case_id, scope=scope, key=check_key(key), request_hash=request_hash, at=datetime.now(UTC)
    )
    await session.commit()
    if not first:
        stored = await queries.idempotency_key_hash(session, case_id=case_id, scope=scope, key=key)
        if stored is not None and stored != request_hash:
            raise Conflict(
                f"Idempotency-Key“{key}”已用于内容不同的另一请求，未作任何更改；新的请求请使用新的 Idempotency-Key"
                " (this key was sent with another body)",
                kind="IdempotencyKeyReused",
            )
        # None: the first request was refused meanwhile and freed the key; this one goes on as a repeat.
    return Claim(case_id=case_id, scope=scope, key=key, first=first)


@asynccontextmanager
async def freed_if_refused(session: AsyncSession, claimed: Claim | None) -> AsyncIterator[None]:
    """Around the first request's work: a refusal (4xx) frees the key for a corrected body."""
    try:
        yield
    except YgError as e:
        if claimed is not None and claimed.first and e.status < 500:
            await queries.free_idempotency_key(session, case_id=claimed.case_id, scope=claimed.scope, key=claimed.key)
            await session.commit()
        raise
