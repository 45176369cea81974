"""``alertcommons status``: the delivery report for a person, and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.receivers import Receiver
from tests.support.server import HubProcess

ADMIN = "ac_status-cli-admin-token-0123456789abcdefghijkl"


def test_status_follows_until_delivered(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    try:
        with Receiver() as receiver:
            issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
            rx = hub.org("TV", "receiver")
            for path in ("/ok/a", "/slow/b"):
                httpx.post(
                    f"{hub.url}/api/v1/endpoints",
                    headers={"Authorization": f"Bearer {rx['token']}"},
                    json={"channel": "webhook", "url": receiver.url(path), "label": path},
                )
            alert_id = httpx.post(
                f"{hub.url}/api/v1/alerts",
                content=xml(make_alert("metro.tokyo.jp", ["13101"])),
                headers={"Authorization": f"Bearer {issuer['token']}", **CAP_XML},
            ).json()["id"]
            base = [
                sys.executable,
                "-m",
                "alertcommons",
                "status",
                alert_id,
                "--hub",
                hub.url,
                "--token",
                issuer["token"],
            ]
            text = subprocess.run(base, capture_output=True, text=True, timeout=60)
            assert text.returncode == 0, text.stderr
            assert "2/2 delivered" in text.stdout
            # the issuer sees the receiving organization, not its endpoints' labels
            assert "TV" in text.stdout and "/slow/b" not in text.stdout
            data = subprocess.run(
                [*base, "--json", "--no-wait"], capture_output=True, text=True, timeout=60
            )
            report = json.loads(data.stdout)
            assert report["total"] == 2 and report["delivered"] == 2
            wrong = subprocess.run(
                [*base[:-1], rx["token"]], capture_output=True, text=True, timeout=60
            )
            assert wrong.returncode == 1 and "404" in wrong.stderr
    finally:
        hub.stop()
