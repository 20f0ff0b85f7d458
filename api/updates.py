"""Sending a workflow update from a request (decision 2): the validator's refusal becomes the caller's 4xx, a
workflow that has ended a 409, and a Temporal that does not answer in time a 503 the caller may retry with
the same Idempotency-Key (the update id is derived from it, so a retry never acts twice).

"In time" bounds the whole call, not one RPC: once the workflow has accepted an update the SDK polls for its
outcome for as long as it takes, so an update stuck behind a failing activity hung a request for minutes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.case import CASE_EVENT
from db.models import Case
from domain.errors import CaseClosed, Conflict, InvalidInput, NotFound, Unavailable, YgError
from domain.models import CaseEventInput

T = TypeVar("T")

# The longest a request waits for the case's workflow, all RPCs and outcome polls together: past it the
# request answers 503 and the caller retries with the same key. Read at each call (tests lower it).
UPDATE_DEADLINE = timedelta(seconds=30)
# One RPC's own timeout. Alone it bounds nothing: the server answers an outcome poll empty after its long-poll
# interval (20 s on the dev server), and the SDK polls again, for as long as the update runs.
UPDATE_RPC_TIMEOUT = timedelta(seconds=30)

# Kinds the validators raise that are not bad input: the state of the case forbids the request (409) or
# the thing asked about does not exist (404). Every other kind is bad input (422).
_KINDS: dict[str, type[YgError]] = {
    "CaseClosed": CaseClosed,
    "ExtensionPending": Conflict,
    "ExtensionTooLate": Conflict,
    "ExtensionNotFound": NotFound,
}


def refusal(e: WorkflowUpdateFailedError, *, failed: str) -> YgError:
    """The validator's reason, in the API.md error shape; ``failed`` says what did not happen otherwise."""
    cause = e.cause
    if isinstance(cause, ApplicationError):
        kind = cause.type or "Refused"
        return _KINDS.get(kind, InvalidInput)(cause.message, kind=kind)
    return Conflict(f"{failed} (update failed)", kind="UpdateFailed")


def _unavailable(e: BaseException) -> Unavailable:
    if isinstance(e, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError):
        detail = "流程服务未能及时完成本次请求，请稍后用同一 Idempotency-Key 重试 (Temporal did not answer in time)"
    else:
        detail = "流程服务暂不可用，请稍后用同一 Idempotency-Key 重试 (Temporal unavailable)"
    return Unavailable(detail, kind="TemporalUnavailable")


async def within_deadline(call: Callable[[timedelta], Awaitable[T]]) -> T:
    """Run ``call`` (given the timeout of each RPC) and give up after UPDATE_DEADLINE in all with a 503.

    The SDK turns the cancellation of an outcome poll into WorkflowUpdateRPCTimeoutOrCancelledError, so both
    that and TimeoutError mean "not in time"; a request cancelled from outside stays cancelled."""
    try:
        async with asyncio.timeout(UPDATE_DEADLINE.total_seconds()):
            return await call(UPDATE_RPC_TIMEOUT)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as e:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise _unavailable(e) from e


def _not_ready(e: RPCError) -> bool:
    """The server refused the update before accepting it: the workflow task it arrived in failed (an update that
    lands as the run continues as new). Sending it again is safe and is what the server asks for."""
    return e.status == RPCStatusCode.FAILED_PRECONDITION and any(
        d.type_url.endswith("WorkflowNotReadyFailure") for d in e.grpc_status.details
    )


async def execute_update(
    handle: WorkflowHandle, update: str, arg: BaseModel, *, id: str, result_type: type[T], rpc_timeout: timedelta
) -> T:
    """``execute_update``, sent again while the workflow is not ready for it (with a short growing pause); the
    caller bounds the whole (``within_deadline``)."""
    pause = 0.05
    while True:
        try:
            return await handle.execute_update(update, arg, id=id, result_type=result_type, rpc_timeout=rpc_timeout)
        except RPCError as e:
            if not _not_ready(e):
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


async def send_update(
    session: AsyncSession,
    client: Client,
    workflow_id: str,
    update: str,
    arg: BaseModel,
    *,
    update_id: str,
    result_type: type[T],
    failed: str,
    ended: str,
) -> T:
    """Run ``update`` on the case's workflow; ``failed`` names what did not happen, ``ended`` why it cannot.

    The request's read transaction ends first: no database connection is held while the workflow works (its
    objects stay loaded, the session does not expire them on commit)."""
    await session.commit()
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await within_deadline(
            lambda rpc_timeout: execute_update(
                handle, update, arg, id=update_id, result_type=result_type, rpc_timeout=rpc_timeout
            )
        )
    except WorkflowUpdateFailedError as e:
        raise refusal(e, failed=failed) from None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            if await _still_filing(session, workflow_id):
                raise _not_started() from None
            raise CaseClosed(ended, kind="CaseClosed") from None
        raise _unavailable(e) from e


async def send_case_event(
    session: AsyncSession,
    client: Client,
    case_id: str,
    event: CaseEventInput,
    *,
    failed: str,
    ended: str,
    update_id: str | None = None,
    refused: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Tell the case's workflow of ``event`` (``CASE_EVENT``) once: the update id derives from the event's key, so a
    retry or a later round acts once. Unavailable leaves the row for them; a refusal runs ``refused``, then raises."""
    workflow_id = await session.scalar(select(Case.workflow_id).where(Case.id == case_id))
    assert workflow_id is not None
    try:
        await send_update(
            session,
            client,
            workflow_id,
            CASE_EVENT,
            event,
            update_id=update_id or "event-" + hashlib.sha256(event.key.encode()).hexdigest()[:40],
            result_type=type(None),
            failed=failed,
            ended=ended,
        )
    except Unavailable:
        raise  # the row stays: a retry with the same key, or the announcing round, finishes it
    except YgError:
        if refused is not None:
            await refused()
        raise


def _not_started() -> Unavailable:
    """A case whose filing is in the read model but whose workflow has not started yet (Temporal was down)."""
    return Unavailable(
        "案件流程尚未启动（立案时流程服务不可用），系统正在自动补建，请稍后用同一 Idempotency-Key 重试"
        " (the case's workflow has not started yet)",
        kind="CaseNotStarted",
    )


async def _still_filing(session: AsyncSession, workflow_id: str) -> bool:
    status = await session.scalar(select(Case.status).where(Case.workflow_id == workflow_id))
    await session.commit()
    return status == "filing"
