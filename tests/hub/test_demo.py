"""`alertcommons serve --demo`: demo organizations and alerts in force, as a new user sees them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import free_port


def test_demo_hub_starts_with_alerts_in_force(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alertcommons",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        active = httpx.get(f"{base}/api/v1/alerts", params={"active": "true"}).json()["items"]
        assert len(active) == 2
        state = httpx.get(f"{base}/api/v1/jp/evacuation", params={"code": "131016"}).json()
        assert state["in_force"] and state["level"] == 4
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "admin token (shown once): ac_" in output
    assert "東京都千代田区" in output
