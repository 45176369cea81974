"""docs/receivers.md followed by a test: its shell blocks run in order, and its Python
receiver as a real process that verifies, de-duplicates and acknowledges. Shared by the run
against a bare hub (tests/delivery/test_docs_receivers.py) and the run after ``make run``
(tests/delivery/test_docs_receivers_demo.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.docs import runnable
from tests.support.waiting import until_blocking


def guide_blocks() -> tuple[list[str], str]:
    """The guide's shell blocks in order (the first registers the endpoint), and its receiver."""
    shell = [block.text for block in runnable("docs/receivers.md", "sh")]
    (python_receiver,) = [block.text for block in runnable("docs/receivers.md", "python")]
    return shell, python_receiver


def guide_env(
    base: Mapping[str, str], hub_url: str, receiver_token: str, port: int
) -> dict[str, str]:
    """The variables the guide's blocks expect, on top of ``base``."""
    return {
        **base,
        "HUB": hub_url,
        "RECEIVER_TOKEN": receiver_token,
        "RECEIVER_URL": f"http://127.0.0.1:{port}/alerts",
        "PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def run_block(block: str, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, block + result.stdout + result.stderr


@contextmanager
def sample_receiver(code: str, work: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """The guide's receiver running in ``work``, listening on ``env["PORT"]``; its stdout
    prints one ``alert ID`` line per alert it takes."""
    (work / "receiver.py").write_text(code)
    receiver = subprocess.Popen(
        [sys.executable, "receiver.py"], cwd=work, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(env["PORT"])
        until_blocking(lambda: _listening(port), what="the sample receiver did not start listening")
        yield receiver
    finally:
        receiver.kill()
        receiver.wait()
        if receiver.stdout:
            receiver.stdout.close()


def publish_and_see_acknowledged(
    hub_url: str, issuer_token: str, out: IO[str], *, in_force: int = 0
) -> dict[str, Any]:
    """Publish one alert, see the receiver print it, and wait until the hub counts its
    acknowledgement; the deliveries report is returned. ``in_force``: how many alerts already
    in force may come first (a new endpoint is sent what is in force)."""
    published = httpx.post(
        f"{hub_url}/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131016"])),
        headers={"Authorization": f"Bearer {issuer_token}", **CAP_XML},
    )
    assert published.status_code == 201, published.text
    alert_id = published.json()["id"]
    shown: list[list[str]] = []
    while (line := out.readline().split()) != ["alert", alert_id]:
        if line[:3] == ["acknowledgement", "not", "sent:"]:
            continue  # a delivery that came as the hub stopped: its ack found no hub, as said
        assert line and line[0] == "alert", line
        shown.append(line)
    assert len(shown) <= in_force, shown

    report: dict[str, Any] = {}

    def acknowledged() -> bool:
        nonlocal report
        report = httpx.get(
            f"{hub_url}/api/v1/alerts/{alert_id}/deliveries",
            headers={"Authorization": f"Bearer {issuer_token}"},
        ).json()
        return bool(report["acknowledged"] == 1)

    until_blocking(acknowledged, what="the sample receiver's acknowledgement did not count")
    return report


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.HTTPError:
        return False
    return True
