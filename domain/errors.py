"""One error base class; each kind maps to one HTTP status and the API.md error shape."""

from __future__ import annotations


class YgError(Exception):
    """A business error meant for the caller: ``kind`` names it, ``detail`` says it in Chinese."""

    status = 400
    kind = "BadRequest"

    def __init__(self, detail: str, *, kind: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if kind:
            self.kind = kind


class InvalidInput(YgError):
    status = 422
    kind = "InvalidInput"


class NotAuthenticated(YgError):
    status = 401
    kind = "NotAuthenticated"


class Forbidden(YgError):
    status = 403
    kind = "Forbidden"


class NotFound(YgError):
    status = 404
    kind = "NotFound"


class Conflict(YgError):
    status = 409
    kind = "Conflict"


class CaseClosed(Conflict):
    kind = "CaseClosed"


class Unavailable(YgError):
    status = 503
    kind = "Unavailable"


class TooManyAttempts(YgError):
    """Too many failed logins in a window: the caller waits ``retry_after`` seconds (429 with Retry-After)."""

    status = 429
    kind = "TooManyAttempts"

    def __init__(self, detail: str, *, retry_after: int, kind: str | None = None) -> None:
        super().__init__(detail, kind=kind)
        self.retry_after = retry_after


class PayloadTooLarge(YgError):
    """A file or request past its configured size (core/files.py, api/edge.py)."""

    status = 413
    kind = "PayloadTooLarge"


class UnsupportedMediaType(YgError):
    """A file whose bytes are not one of the accepted types (PDF, JPEG, PNG, WebP), whatever its name says."""

    status = 415
    kind = "UnsupportedFileType"
