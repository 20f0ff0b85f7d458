"""The suite's throwaway PostgreSQL folders: a killed session's are reaped by the next, a running one's are kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.pg import reap_stale


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(done.stdout)


def test_a_killed_session_s_folder_is_reaped_and_a_running_one_s_is_kept(tmp_path: Path) -> None:
    killed, running, fresh, old = (tmp_path / f"yg-pg-{n}" for n in ("killed", "running", "fresh", "old"))
    for base in (killed, running, fresh, old):
        (base / "data").mkdir(parents=True)
    (killed / "owner").write_text(str(_dead_pid()))
    (running / "owner").write_text(str(os.getpid()))
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))  # left by an older suite that kept no owner, long ago
    (tmp_path / "other").mkdir()

    reap_stale(tmp_path, "yg-pg-")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "yg-pg-fresh", "yg-pg-running"]
