"""A throwaway PostgreSQL server for the database tests: initdb in a temporary folder, on a free port."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg


def _bindir() -> Path:
    """The server binaries of Debian's postgresql package (or whatever pg_ctl is on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).resolve().parent
    raise RuntimeError("PostgreSQL server not found: `make test` installs it (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return True


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def reap_stale(parent: Path, prefix: str) -> None:
    """Stop and remove the servers of test sessions that were killed (a run stopped with Ctrl-C or by a timeout):
    a session that ends tears its own down, a killed one cannot. A folder's ``owner`` is the pytest process that
    made it; a folder whose owner is alive belongs to a session still running and is left alone."""
    for base in parent.glob(f"{prefix}*"):
        owner = _pid_in(base / "owner")
        if owner is not None and _alive(owner):
            continue
        try:
            if owner is None and time.time() - base.stat().st_mtime < 600:
                continue  # just made by another worker, which has not written its owner yet
        except FileNotFoundError:
            continue  # reaped meanwhile by another worker
        server = _pid_in(base / "data" / "postmaster.pid")
        if server is not None and _alive(server):
            if owner is None:
                continue  # made by an older suite that kept no owner: it may still be in use
            with contextlib.suppress(ProcessLookupError):
                os.kill(server, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
            deadline = time.monotonic() + 10
            while _alive(server) and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(base, ignore_errors=True)


class PostgresServer:
    """initdb refuses to run as root, so as root the server runs as the 'postgres' system user."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.port = _free_port()
        self.bindir = _bindir()
        self._user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def start(self) -> None:
        (self.base / "owner").write_text(str(os.getpid()))
        if self._user:
            pw = pwd.getpwnam(self._user)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            self.base.chmod(0o700)
            parent = self.base.parent
            while parent != parent.parent:  # the server user must reach its folder
                parent.chmod(parent.stat().st_mode | 0o011)
                parent = parent.parent
        self._run("initdb", "-D", str(self.data), "-U", "yg", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-t", "60",
            "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off",
            "start",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def dsn(self, db: str) -> str:
        return f"postgresql://yg@127.0.0.1:{self.port}/{db}"

    def new_database(self, name: str) -> str:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://yg@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
