"""No log call passes a key LogRecord reserves in ``extra``: logging raises on it once the level is enabled, and
an activity that raises is retried for ever (issue 8, defect 1)."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["activities", "api", "workflows", "contracts", "core", "db", "domain", "worker.py"]

# Every attribute a fresh LogRecord has, plus the two logging itself forbids ("message", "asctime").
RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def _reserved_extras(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg != "extra" or not isinstance(kw.value, ast.Dict):
                continue
            for key in kw.value.keys:
                if isinstance(key, ast.Constant) and key.value in RESERVED:
                    found.append(f"{path.relative_to(ROOT)}:{key.lineno} extra key {key.value!r}")
    return found


def test_no_log_call_uses_a_reserved_logrecord_key_in_extra() -> None:
    offenders = [hit for path in _files() for hit in _reserved_extras(path)]
    assert offenders == []


def test_the_reserved_keys_include_created() -> None:
    """The check itself would have caught the defect."""
    assert {"created", "msg", "args", "name", "message"} <= RESERVED
