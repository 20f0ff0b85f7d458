"""``python -m db.demo`` seeds users whose password everyone knows: only in dev and test (issue 9 item 10)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _demo(sqlite_url: str, tmp_path: Path, environment: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YG_")}
    if environment is not None:
        env["YG_ENVIRONMENT"] = environment
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "db.demo", sqlite_url],
        cwd=tmp_path,  # no .env file of the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _staff(sqlite_url: str) -> int:
    with sqlite3.connect(sqlite_url.split("///", 1)[1]) as c:
        return int(c.execute("SELECT count(*) FROM staff").fetchone()[0])


@pytest.mark.parametrize("environment", ["production", None])
def test_demo_users_are_refused_in_production_and_by_default(
    sqlite_url: str, tmp_path: Path, environment: str | None
) -> None:
    done = _demo(sqlite_url, tmp_path, environment)

    assert done.returncode != 0
    assert "YG_ENVIRONMENT=production" in done.stderr and "拒绝写入演示用户" in done.stderr
    assert _staff(sqlite_url) == 0


def test_demo_users_are_seeded_in_dev(sqlite_url: str, tmp_path: Path) -> None:
    done = _demo(sqlite_url, tmp_path, "dev")

    assert done.returncode == 0, done.stderr
    assert _staff(sqlite_url) > 0
