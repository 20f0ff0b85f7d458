"""Personal data kept out of logs and out of the failure texts Temporal stores (ARCHITECTURE.md decision 6).

A database error's text carries its statement and parameters (names, ID numbers, phones), a driver's ``DETAIL``
line the offending row, an HTTP client's log the recipient's number. Two nets catch them: every log record of the
process is redacted when it is made (``install_log_redaction``, called by the worker and the API's app factory),
and every activity failure is redacted before the worker hands it to Temporal (``RedactActivityFailures``,
registered by ``worker.build_worker``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
from typing import Any, NoReturn

from temporalio.exceptions import ApplicationError, FailureError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

# SQLAlchemy's "[SQL: …]" block (the statement may span lines; it ends with "]" at a line's end) and its
# "[parameters: …]" line (a repr: never a raw newline inside).
_SQL = re.compile(r"\[SQL: .*?\](?=[ \t]*(?:\n|$))", re.DOTALL)
_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
# SQLAlchemy's statement log ("echo"): "[generated in 0.0001s] ('张三', '5301…')", "[cached since 3s ago] (…)".
_ECHO_PARAMETERS = re.compile(
    r"\[(?:generated in|cached since|raw sql|no key|insertmanyvalues|dialect)\b[^\]\n]*\] [^\n]*", re.IGNORECASE
)
# A driver's detail names the row: PostgreSQL's "DETAIL:  Key (id_number)=(530…) already exists.",
# "Failing row contains (…)".
_DETAIL = re.compile(r"\b(DETAIL|Failing row contains)\b[^\n]*")
_KEY_VALUE = re.compile(r"\)=\([^)\n]*\)")
# A resident ID number (6 digits of place, a birth date, 3 digits and a check character), and a mainland mobile
# number with or without +86 (also as %2B86 in a URL).
_ID_NUMBER = re.compile(
    r"(?<!\d)(\d{4})\d{2}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{2}(\d)([\dXx])(?![\dA-Za-z])"
)
_MOBILE = re.compile(r"(?<!\d)((?:\+|%2B)?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")
# Quoted values in an exception text we did not write: 'value', "value", “value”.
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”\n]*”|‘[^’\n]*’")

SQL_REDACTED = "[SQL: …]"
PARAMETERS_REDACTED = "[parameters: …]"


def redact_text(text: str) -> str:
    """The text without SQL statements and parameters, driver details, ID numbers and mobile numbers."""
    if not text:
        return text
    text = _SQL.sub(SQL_REDACTED, text)
    text = _PARAMETERS.sub(PARAMETERS_REDACTED, text)
    text = _ECHO_PARAMETERS.sub("[…] …", text)
    text = _DETAIL.sub(lambda m: f"{m[1]}: …", text)
    text = _KEY_VALUE.sub(")=(…)", text)
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}{'*' * 12}{m[2]}{m[3]}", text)
    return _MOBILE.sub(lambda m: f"{m[1] or ''}{m[2]}****{m[3]}", text)


def redact_failure_text(text: str) -> str:
    """An exception text we did not write (a driver's, a client's): ``redact_text`` and its quoted values cut."""
    return _QUOTED.sub("…", redact_text(text))


# ---- logs ----------------------------------------------------------------------------------------------------

# Loggers that write statements, parameters or recipients at INFO: kept at WARNING.
QUIET_LOGGERS = ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "twilio.http_client", "twilio")
_FORMATTER = logging.Formatter()


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record's message and its exception text in place; the exception is formatted here, redacted, and
    dropped, so no handler can format the original again."""
    try:
        message = record.getMessage()
    except Exception:
        message = None  # a bad format string: logging reports it when a handler formats the record
    if message is not None:
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
    if record.exc_info:
        if record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for a handler set up elsewhere (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Redact every log record of this process as it is made, and quiet the loggers that log parameters.

    A record factory, not a handler filter: a filter on the root handlers misses handlers added later (uvicorn's,
    pytest's), a filter on a logger misses records propagated from its children. Calling it again does nothing.
    """
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    previous = logging.getLogRecordFactory()
    if getattr(previous, "yg_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    factory.yg_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: int = logging.INFO) -> None:
    """The worker's logging: one line per record on stderr, redacted."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_log_redaction()


# ---- activity failures --------------------------------------------------------------------------------------


class RedactActivityFailures(Interceptor):
    """Every activity failure leaves the worker redacted: its type kept (so retry policies still match it and the
    stuck-cases view still names it), its text without parameters, its cause chain dropped, still retryable."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _RedactingInbound(next)


class _RedactingInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except ApplicationError as e:
            _raise_redacted_application_error(e)
        except (FailureError, concurrent.futures.BrokenExecutor):
            raise  # cancellation and the SDK's own signals carry no personal data and must stay what they are
        except Exception as e:
            if type(e).__module__.partition(".")[0] == "temporalio":
                raise
            redacted = ApplicationError(redact_failure_text(str(e)) or type(e).__name__, type=type(e).__name__)
            raise redacted.with_traceback(e.__traceback__) from None


def _raise_redacted_application_error(e: ApplicationError) -> NoReturn:
    """Our own business failures: their words kept, numbers masked; a cause (a driver error) is not sent."""
    message = redact_text(e.message)
    if message == e.message and e.__cause__ is None:
        raise e
    redacted = ApplicationError(
        message,
        *e.details,
        type=e.type,
        non_retryable=e.non_retryable,
        next_retry_delay=e.next_retry_delay,
        category=e.category,
    )
    raise redacted.with_traceback(e.__traceback__) from None
