"""Nationwide test transmission to 500 municipality receivers, 3 of them down: the report names
exactly those 3."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertcommons.cap import read_alert
from alertcommons.jp.codes import registry
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.server import HubProcess, free_port

CLI_ADMIN = "admin-token-for-national-test-cli-0123456789"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.anyio
async def test_500_receivers_3_down(hub: Hub, receiver: Receiver) -> None:
    hub.dispatch_fast(retry_base_seconds=0.2)
    rx = await hub.org("市町村受信機", None, [], kind="receiver")
    codes = sorted(registry().municipalities)[:500]
    closed = free_port()
    down: set[str] = set()
    for number, code in enumerate(codes):
        url = (
            f"http://127.0.0.1:{closed}/down/{code}"
            if number in (7, 250, 499)
            else receiver.url(f"/ok/{code}")
        )
        body = {
            "channel": "webhook",
            "url": url,
            "label": code,
            "timeout_seconds": 1,
            "filter": {"areas": [code], "statuses": ["Actual", "Test"]},
        }
        response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert response.status_code == 201, response.text
        if "/down/" in url:
            down.add(response.json()["id"])
    not_for_tests = {"channel": "webhook", "url": receiver.url("/ok/portal")}
    await hub.client.post("/api/v1/endpoints", json=not_for_tests, headers=rx["headers"])

    started = await hub.client.post("/api/v1/jp/national-tests", headers=hub.admin)
    assert started.status_code == 201, started.text
    test = started.json()
    assert test["receivers"] == 500

    report: dict[str, Any] = {}
    for _ in range(400):
        report = (
            await hub.client.get(f"/api/v1/jp/national-tests/{test['id']}", headers=hub.admin)
        ).json()
        if report["delivered"] == 497:
            break
        await asyncio.sleep(0.05)
    assert report["delivered"] == 497, report
    assert {item["endpoint_id"] for item in report["not_reached"]} == down
    assert all(item["last_error"] for item in report["not_reached"])
    assert receiver.for_path("/ok/portal") == []  # it takes actual alerts only

    sample = receiver.for_path(f"/ok/{codes[0]}")[0]
    alert = read_alert(sample.body).alert
    assert alert.status == "Test"
    assert alert.infos[0].headline == "これは、Jアラートのテストです。"
    ack = await hub.client.post(
        f"/api/v1/deliveries/{sample.headers['x-alert-commons-delivery']}/ack",
        headers=rx["headers"],
    )
    assert ack.status_code == 200
    final = (
        await hub.client.get(f"/api/v1/jp/national-tests/{test['id']}", headers=hub.admin)
    ).json()
    assert final["acknowledged"] == 1 and final["delivered"] == 496

    receiver_token = await hub.client.post("/api/v1/jp/national-tests", headers=rx["headers"])
    assert receiver_token.status_code == 403


def test_admin_command_sends_and_reports(tmp_path: Path, receiver: Receiver) -> None:
    hub = HubProcess(tmp_path / "data", CLI_ADMIN)
    hub.start()
    try:
        rx = hub.org("市町村受信機", "receiver")
        closed = free_port()
        for code, url in (
            ("131016", receiver.url("/ok/chiyoda")),
            ("011002", receiver.url("/ok/sapporo")),
            ("271004", f"http://127.0.0.1:{closed}/down"),
        ):
            response = httpx.post(
                f"{hub.url}/api/v1/endpoints",
                headers={"Authorization": f"Bearer {rx['token']}"},
                json={
                    "channel": "webhook",
                    "url": url,
                    "label": f"受信機 {code}",
                    "timeout_seconds": 1,
                    "filter": {"areas": [code], "statuses": ["Test"]},
                },
            )
            assert response.status_code == 201
        run = subprocess.run(
            [sys.executable, "-m", "alertcommons", "jp", "national-test", "--timeout", "4"],
            env={**os.environ, "ALERTCOMMONS_HUB_URL": hub.url, "ALERTCOMMONS_TOKEN": CLI_ADMIN},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 1, run.stderr  # one receiver was not reached
        assert "sent to 3 receivers" in run.stdout
        assert "3 receivers: 2 got it" in run.stdout
        not_reached = [line for line in run.stdout.splitlines() if "NOT REACHED" in line]
        assert len(not_reached) == 1 and "受信機 271004" in not_reached[0]
        assert "latency: median" in run.stdout

        refused = subprocess.run(
            [sys.executable, "-m", "alertcommons", "jp", "national-test"],
            env={**os.environ, "ALERTCOMMONS_HUB_URL": hub.url, "ALERTCOMMONS_TOKEN": rx["token"]},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode != 0 and "403" in (refused.stdout + refused.stderr)
        assert "Traceback" not in refused.stderr
        unknown = subprocess.run(
            [sys.executable, "-m", "alertcommons", "jp", "national-test", "--report", "nope"],
            env={**os.environ, "ALERTCOMMONS_HUB_URL": hub.url, "ALERTCOMMONS_TOKEN": CLI_ADMIN},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert unknown.returncode != 0 and "404" in (unknown.stdout + unknown.stderr)
        assert "Traceback" not in unknown.stderr
    finally:
        hub.stop()
