"""Links in feeds, pages and QR codes come from the hub's configured public URL, never from a
request's Host header (which a client chooses, and a shared cache would pass on to everyone)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess, free_port

ADMIN = "ac_links-test-admin-token-0123456789abcdefghijkl"
PUBLIC = "https://alerts.example.jp"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path / "data", ADMIN, env={"ALERTCOMMONS_PUBLIC_URL": PUBLIC + "/"})
    process.start()
    yield process
    process.stop()


def test_host_header_never_reaches_links(hub: HubProcess) -> None:
    issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
    headers = {"Authorization": f"Bearer {issuer['token']}", **CAP_XML}
    alert = httpx.post(
        f"{hub.url}/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131016"])),
        headers=headers,
    ).json()["id"]
    evil = {"Host": "evil.example"}
    for path in ("/feeds/all.atom", "/feeds/13.atom", f"/alerts/{alert}", "/"):
        poisoned = httpx.get(f"{hub.url}{path}", headers=evil)
        assert poisoned.status_code == 200, path
        assert "evil.example" not in poisoned.text, path
        normal = httpx.get(f"{hub.url}{path}")
        assert "evil.example" not in normal.text, path
    feed = httpx.get(f"{hub.url}/feeds/all.atom").text
    assert f'href="{PUBLIC}/api/v1/alerts/{alert}/cap"' in feed
    page = httpx.get(f"{hub.url}/alerts/{alert}").text
    assert f"{PUBLIC}/alerts/{alert}" in page


def test_a_hub_off_loopback_needs_its_public_url(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alertcommons",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ALERTCOMMONS_PUBLIC_URL": ""},
    )
    assert result.returncode != 0
    assert "ALERTCOMMONS_PUBLIC_URL is required" in result.stderr
    assert "Traceback" not in result.stderr
