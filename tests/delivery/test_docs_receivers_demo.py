"""docs/receivers.md followed after ``make run``: its blocks against the demo hub, with a demo
receiver's token from the banner, and the sample receiver still acknowledging after the hub
restarts (the demo's tokens are the same at every start of the same data directory).

tests/delivery/test_docs_receivers.py runs the same blocks against a bare hub, with a token
rotation; this one is what a new user meets first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.demo import DemoHub
from tests.support.docs import runnable
from tests.support.server import free_port
from tests.support.waiting import until_blocking


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


def _publish_and_see_acknowledged(hub: DemoHub, issuer_token: str, out: IO[str]) -> None:
    published = httpx.post(
        f"{hub.url}/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131016"])),
        headers={"Authorization": f"Bearer {issuer_token}", **CAP_XML},
    )
    assert published.status_code == 201, published.text
    alert_id = published.json()["id"]
    # The demo's alerts in force may come first (a new endpoint is sent what is in force).
    shown: list[list[str]] = []
    while (line := out.readline().split()) != ["alert", alert_id]:
        assert line and line[0] == "alert", line
        shown.append(line)
    assert len(shown) <= 3, shown

    def acknowledged() -> bool:
        report = httpx.get(
            f"{hub.url}/api/v1/alerts/{alert_id}/deliveries",
            headers={"Authorization": f"Bearer {issuer_token}"},
        ).json()
        return bool(report["acknowledged"] == 1)

    until_blocking(acknowledged, what="the sample receiver's acknowledgement did not count")


def test_receiver_guide_after_make_run_survives_a_restart(tmp_path: Path) -> None:
    shell = [block.text for block in runnable("docs/receivers.md", "sh")]
    (python_receiver,) = [block.text for block in runnable("docs/receivers.md", "python")]
    hub = DemoHub(tmp_path / "checkout")
    hub.start()
    receiver = None
    try:
        tokens = hub.credentials()["tokens"]
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ALERTCOMMONS_")},
            "HUB": hub.url,
            "RECEIVER_TOKEN": tokens["demo-broadcaster"],
            "RECEIVER_URL": f"http://127.0.0.1:{port}/alerts",
            "PORT": str(port),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        work = hub.workdir
        _bash(shell[0], work, env)  # register the webhook endpoint
        (work / "receiver.py").write_text(python_receiver)
        receiver = subprocess.Popen(
            [sys.executable, "receiver.py"], cwd=work, env=env, stdout=subprocess.PIPE, text=True
        )
        assert receiver.stdout is not None
        until_blocking(lambda: _listening(port), what="the sample receiver did not start listening")
        _publish_and_see_acknowledged(hub, tokens["demo-tokyo"], receiver.stdout)
        for block in shell[1:]:
            _bash(block, work, env)

        hub.stop()  # `make run` again: Ctrl-C, then the same command
        hub.start()
        assert hub.credentials()["tokens"] == tokens
        _publish_and_see_acknowledged(hub, tokens["demo-tokyo"], receiver.stdout)
        assert receiver.poll() is None
    finally:
        if receiver is not None:
            receiver.kill()
            receiver.wait()
            if receiver.stdout:
                receiver.stdout.close()
        hub.stop()


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.HTTPError:
        return False
    return True


pytestmark = pytest.mark.timeout(240)
