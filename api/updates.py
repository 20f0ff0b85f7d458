"""Sending a workflow update from a request (decision 2): the validator's refusal becomes the caller's 4xx, a
workflow that has ended a 409, and a Temporal that does not answer in time a 503 the caller may retry with
the same Idempotency-Key (the update id is derived from it, so a retry never acts twice)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import CaseClosed, Conflict, InvalidInput, NotFound, Unavailable, YgError

T = TypeVar("T")

# The longest one RPC of a request waits for the case's workflow: past it the request answers 503, not hangs.
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


def _unavailable(e: Exception) -> Unavailable:
    if isinstance(e, WorkflowUpdateRPCTimeoutOrCancelledError):
        detail = "流程服务未能及时响应，请稍后用同一 Idempotency-Key 重试 (Temporal did not answer in time)"
    else:
        detail = "流程服务暂不可用，请稍后用同一 Idempotency-Key 重试 (Temporal unavailable)"
    return Unavailable(detail, kind="TemporalUnavailable")


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
        return await handle.execute_update(
            update, arg, id=update_id, result_type=result_type, rpc_timeout=UPDATE_RPC_TIMEOUT
        )
    except WorkflowUpdateFailedError as e:
        raise refusal(e, failed=failed) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError as e:
        raise _unavailable(e) from e
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise CaseClosed(ended, kind="CaseClosed") from None
        raise _unavailable(e) from e
