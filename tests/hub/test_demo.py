"""`alertcommons serve --demo`: demo organizations and alerts in force, as a new user sees them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import free_port


def _start(data: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alertcommons",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "ALERTCOMMONS_ADMIN_TOKEN"},
    )


def _wait(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=20)
    return output


def test_demo_hub_starts_with_alerts_in_force(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path / "data", port)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base)
        active = httpx.get(f"{base}/api/v1/alerts", params={"active": "true"}).json()["items"]
        assert len(active) == 2
        state = httpx.get(f"{base}/api/v1/jp/evacuation", params={"code": "131016"}).json()
        assert state["in_force"] and state["level"] == 4
        # 千代田区's districts and designated sites, from the files shipped in the package
        districts = httpx.get(f"{base}/api/v1/jp/districts", params={"code": "13101"}).json()
        names = [f["properties"]["name"] for f in districts["features"]]
        assert len(names) == 8 and "神田地区" in names and "番町地区" in names
        sites = httpx.get(f"{base}/api/v1/jp/shelters/registered", params={"code": "13101"})
        kinds = [f["properties"]["kind"] for f in sites.json()["features"]]
        assert kinds.count("shelter") == 7 and kinds.count("emergency_site") == 4
    finally:
        output = _stop(process)
    assert "admin token (demo, the same at every start): ac_" in output
    assert "東京都千代田区" in output


def _credentials(output: str) -> list[str]:
    """The tokens and passwords a banner shows."""
    return re.findall(r"\b(ac_[\w-]+)", output) + re.findall(
        r"^ {4}(?:chiyoda|shinjuku|tokyo|jma|broadcaster|admin)\w* +(\S+)", output, re.M
    )


def test_demo_credentials_survive_a_restart(tmp_path: Path) -> None:
    """A receiver or a command copied from the first banner still works after a restart, and
    restarts leave one live demo admin token, not one more each time."""
    data, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    first = _start(data, port)
    try:
        _wait(base)
    finally:
        before = _stop(first)
    second = _start(data, port)
    try:
        _wait(base)
        admin = re.search(r"admin token \(demo[^)]*\): (\S+)", before)
        assert admin, before
        answer = httpx.get(
            f"{base}/api/v1/organizations/operator/tokens",
            headers={"Authorization": f"Bearer {admin.group(1)}"},
        )
        assert answer.status_code == 200, answer.text
        live = [t for t in answer.json()["items"] if t["revoked_at"] is None]
        assert len(live) == 1, live
    finally:
        after = _stop(second)
    shown = _credentials(before)
    assert len(shown) >= 7, before  # the admin token, six organizations' tokens, accounts
    assert shown == _credentials(after)
