"""The hub exactly as ``make run`` starts it: ``alertcommons serve --demo``, demo data and
all, in its own process on a free port. Its tokens and passwords are read back from the
``demo-credentials.json`` it keeps in the data directory (see hub/demo_credentials.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import free_port


class DemoHub:
    """``serve --demo`` run in ``workdir`` with no ``--data-dir``, as ``make run`` does in the
    checkout: the data directory is ``workdir/alertcommons-data``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "alertcommons-data"
        self.port = free_port()
        self.log = workdir.parent / f"{workdir.name}-hub.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        # As a new user's shell has it: no admin token or other hub setting from the tests.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTCOMMONS_")}
        args = [sys.executable, "-m", "alertcommons", "serve", "--demo", "--port", str(self.port)]
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"demo hub exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"demo hub did not answer within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def credentials(self) -> dict[str, Any]:
        """``admin`` (token), ``tokens`` (organization id → token), ``passwords``."""
        loaded: dict[str, Any] = json.loads((self.data_dir / "demo-credentials.json").read_text())
        return loaded

    def __enter__(self) -> DemoHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
