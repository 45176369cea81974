"""The examples in docs/receivers.md, run against a real hub: curl blocks in order, and the
Python receiver as a real process that verifies, de-duplicates and acknowledges."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.docs import runnable
from tests.support.server import HubProcess, free_port

ADMIN = "ac_receivers-doc-admin-token-0123456789abcdefghi"


def _bash(block: str, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, block + result.stdout + result.stderr


def _publish_and_see_acknowledged(hub: HubProcess, issuer_token: str, out: IO[str]) -> None:
    published = httpx.post(
        f"{hub.url}/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131016"])),
        headers={"Authorization": f"Bearer {issuer_token}", **CAP_XML},
    ).json()
    assert out.readline().split() == ["alert", published["id"]]
    deadline = time.monotonic() + 15
    report: dict[str, object] = {}
    while time.monotonic() < deadline:
        report = httpx.get(
            f"{hub.url}/api/v1/alerts/{published['id']}/deliveries",
            headers={"Authorization": f"Bearer {issuer_token}"},
        ).json()
        if report["acknowledged"] == 1:
            break
        time.sleep(0.1)
    assert report["acknowledged"] == 1, report
    # it acknowledges inside the request, and the send's latency is still measured
    items: Any = report["items"]
    assert [item["latency_ms"] is not None for item in items] == [True], report


def test_receiver_guide_examples(tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to run the documented examples")
    shell = [block.text for block in runnable("docs/receivers.md", "sh")]
    (python_receiver,) = [block.text for block in runnable("docs/receivers.md", "python")]
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    work = tmp_path / "work"
    work.mkdir()
    receiver = None
    try:
        issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        rx = hub.org("Broadcaster", "receiver")
        port = free_port()
        env = {
            **os.environ,
            "HUB": hub.url,
            "RECEIVER_TOKEN": rx["token"],
            "RECEIVER_URL": f"http://127.0.0.1:{port}/alerts",
            "PORT": str(port),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        _bash(shell[0], work, env)  # register the webhook endpoint
        (work / "receiver.py").write_text(python_receiver)
        receiver = subprocess.Popen(
            [sys.executable, "receiver.py"], cwd=work, env=env, stdout=subprocess.PIPE, text=True
        )
        time.sleep(0.5)
        assert receiver.stdout is not None
        _publish_and_see_acknowledged(hub, issuer["token"], receiver.stdout)
        for block in shell[1:]:  # verify the CAP, the stream, the feed
            _bash(block, work, env)

        # The hub restarts under the running receiver, and the operator rotates its token:
        # the receiver, reading token.txt at each acknowledgement, goes on acknowledging.
        hub.stop()
        hub.start()
        admin = {"Authorization": f"Bearer {ADMIN}"}
        tokens_url = f"{hub.url}/api/v1/organizations/{rx['id']}/tokens"
        old = [t["id"] for t in httpx.get(tokens_url, headers=admin).json()["items"]]
        rotated = httpx.post(tokens_url, json={"label": "rotated"}, headers=admin)
        assert rotated.status_code == 201, rotated.text
        (work / "token.txt").write_text(rotated.json()["token"] + "\n")
        for token_id in old:
            httpx.delete(f"{tokens_url}/{token_id}", headers=admin).raise_for_status()
        _publish_and_see_acknowledged(hub, issuer["token"], receiver.stdout)
        assert receiver.poll() is None  # still running
    finally:
        if receiver is not None:
            receiver.kill()
            receiver.wait()
            if receiver.stdout:
                receiver.stdout.close()
        hub.stop()
