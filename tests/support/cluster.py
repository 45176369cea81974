"""The processes of a hub cluster on this machine, for tests and benchmarks: a NATS server with
JetStream of the test's own, and ``alertcommons dispatch`` workers (hub API nodes are
``tests/support/server.HubProcess``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from alertcommons.delivery.outbound import LOOPBACK
from tests.support.server import free_port
from tests.support.services import port_open, unavailable
from tests.support.waiting import until_blocking

# What every node of one cluster must hold alike (the signing key also lives in the database).
KEY_FILES = ("hub-key.pem", "hub-cert.pem", "audit-key", "secrets-key")


def share_keys(source: Path, target: Path) -> None:
    """Give a new node's data directory the first node's key files."""
    target.mkdir(parents=True, exist_ok=True)
    for name in KEY_FILES:
        shutil.copy2(source / name, target / name)


class Nats:
    """A NATS server with JetStream of the test's own, on a free port: stopped and started
    by the test, never the shared one."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("nats-server")
        if binary is None:
            unavailable("nats-server is not installed")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        until_blocking(lambda: port_open("127.0.0.1", self.port))

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class Worker:
    """``alertcommons dispatch`` in a process of its own, with a short lease so that a
    killed worker's claims come back quickly."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        lease_seconds: float = 2,
        args: tuple[str, ...] = (),
        **env: str,
    ) -> None:
        environment = {
            **os.environ,
            "ALERTCOMMONS_DATA_DIR": str(data_dir),
            "ALERTCOMMONS_OUTBOUND_ALLOW": LOOPBACK,
            "ALERTCOMMONS_DELIVERY_LEASE_SECONDS": str(lease_seconds),
            **env,
        }
        self.log = data_dir / "worker.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "alertcommons", "dispatch"),
                    *("--database-url", database_url, *args),
                ],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        until_blocking(lambda: "dispatch worker on" in self.log.read_text(), seconds=30)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
