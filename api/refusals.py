"""A workflow update's refusal as the caller's 4xx (decision 2): the validator names the kind, this maps it."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.errors import CaseClosed, Conflict, InvalidInput, NotFound, YgError

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
