"""The real hub in its own process (uvicorn on a free port), started as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from alertcommons.delivery.outbound import LOOPBACK


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class HubProcess:
    def __init__(
        self,
        data_dir: Path,
        admin_token: str,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.extra_env = env or {}
        self.data_dir = data_dir
        self.admin_token = admin_token
        self.database_url = database_url
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "hub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "ALERTCOMMONS_ADMIN_TOKEN": self.admin_token,
            "ALERTCOMMONS_DATA_DIR": str(self.data_dir),
            # The tests' receivers are local; a test of the default passes "" here.
            "ALERTCOMMONS_OUTBOUND_ALLOW": LOOPBACK,
            **self.extra_env,
        }
        args = [sys.executable, "-m", "alertcommons", "serve", "--port", str(self.port)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"hub did not answer within {timeout}s:\n{self.log.read_text()}")

    def org(
        self, name: str, kind: str, sender: str | None = None, jurisdiction: list[str] | None = None
    ) -> dict[str, str]:
        """Create an organization with the admin token; return it with its first token."""
        body = {"name": name, "kind": kind, "sender": sender, "jurisdiction": jurisdiction or []}
        response = httpx.post(
            f"{self.url}/api/v1/organizations",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        response.raise_for_status()
        created: dict[str, str] = response.json()
        return created

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — what a crash looks like."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def process_database(database_url: str) -> str | None:
    """The database a ``HubProcess`` gets for the ``database_url`` fixture's parameter: None,
    its own embedded SQLite in its data directory, or the PostgreSQL database."""
    return None if database_url.startswith("sqlite") else database_url


@contextmanager
def running_hub(
    data_dir: Path, admin_token: str, database_url: str, env: dict[str, str] | None = None
) -> Iterator[HubProcess]:
    """A started hub on the ``database_url`` fixture's database, stopped afterwards."""
    process = HubProcess(data_dir, admin_token, process_database(database_url), env)
    process.start()
    try:
        yield process
    finally:
        process.stop()
