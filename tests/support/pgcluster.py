"""A throwaway PostgreSQL server of the test's own (``initdb`` + ``pg_ctl`` in a temporary
directory, on a free port), for tests that stop and start the database: never the shared one.

PostgreSQL will not run as root; when the tests do, the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.server import free_port
from tests.support.services import unavailable


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class OwnPostgres:
    """``init``, ``start``, ``stop`` and at the end ``remove``. Its files live in a directory
    of their own under the system's temporary directory, not pytest's: pytest keeps its
    base directory private (0700), which the ``postgres`` user cannot enter."""

    def __init__(self) -> None:
        self.bin = _binaries()
        if self.bin is None:
            unavailable("PostgreSQL's initdb/pg_ctl are not installed")
        directory = Path(tempfile.mkdtemp(prefix="alertcommons-pg-"))
        self.directory = directory
        self.data = directory / "pgdata"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root and there is no postgres user to run PostgreSQL")
                raise
            os.chown(directory, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        assert self.bin is not None
        command = [*self._as, str(self.bin / args[0]), *args[1:]]
        done = subprocess.run(command, capture_output=True, cwd=self.directory, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr}{done.stdout}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "pg.log"),
            "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its files."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
