"""No personal data in log records (issue 9 item 9, ARCHITECTURE.md decision 6): a database error logged during a
filing shows neither its statement nor its parameters, and phone and ID numbers are masked wherever they appear."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from api.app import create_app
from core.redaction import QUIET_LOGGERS, install_log_redaction, redact_failure_text, redact_text
from tests.conftest import make_settings

NAME, ID_NUMBER, PHONE = "王芳", "530102199001011234", "13800138001"


@pytest.fixture
def plain_records() -> Iterator[None]:
    """Each test starts from logging's own record factory and gets it back afterwards."""
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    yield
    logging.setLogRecordFactory(factory)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What a log file would hold: a handler of its own with the worker's format."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("yangguang.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)


def _integrity_error(tmp_path: Path) -> IntegrityError:
    """A real driver error from inserting a party twice: SQLAlchemy puts the statement and parameters in it."""
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE parties (name TEXT, id_number TEXT UNIQUE, phone TEXT)"))
        c.execute(text("INSERT INTO parties VALUES (:n, :i, :p)"), {"n": NAME, "i": ID_NUMBER, "p": PHONE})
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO parties VALUES (:n, :i, :p)"), {"n": NAME, "i": ID_NUMBER, "p": PHONE})
    except IntegrityError as e:
        return e
    finally:
        engine.dispose()
    raise AssertionError("the second insert should fail")


def _assert_clean(out: str) -> None:
    for secret in (NAME, ID_NUMBER, PHONE):
        assert secret not in out, out


def test_a_database_error_logged_during_a_filing_shows_neither_its_statement_nor_its_parameters(
    plain_records: None, captured: io.StringIO, tmp_path: Path
) -> None:
    error = _integrity_error(tmp_path)
    assert ID_NUMBER in str(error)  # what was written to the log before

    install_log_redaction()
    try:
        raise error
    except IntegrityError:
        logging.getLogger("yangguang.test").exception("filing failed for %s", "(2026)云0102执1号")

    out = captured.getvalue()
    _assert_clean(out)
    assert "filing failed for (2026)云0102执1号" in out
    assert "IntegrityError" in out and "UNIQUE constraint failed: parties.id_number" in out  # still useful
    assert "[parameters: …]" in out and "[SQL: …]" in out


def test_phone_and_id_numbers_in_any_log_message_are_masked(plain_records: None, captured: io.StringIO) -> None:
    install_log_redaction()

    logging.getLogger("yangguang.test").info("party %s phone %s (+86%s)", ID_NUMBER, PHONE, PHONE)

    out = captured.getvalue()
    _assert_clean(out)
    assert "5301************34" in out and "138****8001" in out and "+86138****8001" in out


def test_sqlalchemy_and_twilio_client_loggers_stay_at_warning(plain_records: None) -> None:
    install_log_redaction()

    for name in (*QUIET_LOGGERS, "sqlalchemy.engine.Engine"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name


def test_the_api_app_factory_installs_the_redaction(plain_records: None, captured: io.StringIO) -> None:
    create_app(make_settings())

    logging.getLogger("yangguang.test").warning("[parameters: ('%s', '%s')]", NAME, ID_NUMBER)

    _assert_clean(captured.getvalue())


def test_a_driver_detail_and_quoted_values_leave_a_failure_text() -> None:
    detail = f'duplicate key value violates unique constraint "uq"\nDETAIL:  Key (id_number)=({ID_NUMBER}) exists.'
    assert ID_NUMBER not in redact_text(detail) and "duplicate key value" in redact_text(detail)
    assert redact_failure_text(f"invalid input value '{NAME}' for id_number") == "invalid input value … for id_number"
    # numbers that are neither phones nor ID numbers are left alone
    assert redact_text("case 12 took 1234567 ms, run 123456789012") == "case 12 took 1234567 ms, run 123456789012"
