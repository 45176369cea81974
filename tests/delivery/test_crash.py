"""Crash in the middle of a fan-out: SIGKILL, restart, and every (alert, endpoint) pair still
arrives — at least once, duplicates under the same id. (Full size: bench/fanout.py.)"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.receivers import Receiver
from tests.support.server import HubProcess, process_database

ADMIN = "ac_crash-test-admin-token-0123456789abcdefghijklm"
ALERTS, ENDPOINTS = 20, 100


def test_sigkill_mid_fanout_loses_nothing(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    url = process_database(database_url)
    hub = HubProcess(
        tmp_path / "data", ADMIN, url, env={"ALERTCOMMONS_DELIVERY_LEASE_SECONDS": "2"}
    )
    hub.start()
    try:
        issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        rx = hub.org("Receivers", "receiver")
        for n in range(ENDPOINTS):
            response = httpx.post(
                f"{hub.url}/api/v1/endpoints",
                headers={"Authorization": f"Bearer {rx['token']}"},
                json={"channel": "webhook", "url": receiver.url(f"/slow/{n}")},
            )
            assert response.status_code == 201
        headers = {"Authorization": f"Bearer {issuer['token']}", **CAP_XML}
        ids = []
        with httpx.Client(base_url=hub.url) as client:
            for _ in range(ALERTS):
                alert = make_alert("metro.tokyo.jp", ["131016"])
                response = client.post("/api/v1/alerts", content=xml(alert), headers=headers)
                assert response.status_code == 201
                ids.append(response.json()["id"])
        total = ALERTS * ENDPOINTS
        deadline = time.monotonic() + 30
        while len(receiver.received) < total * 0.3 and time.monotonic() < deadline:
            time.sleep(0.005)
        before = len(receiver.received)
        hub.kill()
        assert 0 < before < total, f"kill landed outside the fan-out ({before} of {total})"

        hub.start()
        pairs = {(alert_id, f"/slow/{n}") for alert_id in ids for n in range(ENDPOINTS)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = {(r.headers["webhook-id"], r.path) for r in receiver.received}
            if pairs <= got:
                break
            time.sleep(0.1)
        got = {(r.headers["webhook-id"], r.path) for r in receiver.received}
        assert pairs <= got, f"{len(pairs - got)} of {total} pairs never arrived"

        copies: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in receiver.received:
            copies[(r.headers["webhook-id"], r.path)].add(r.headers["x-alert-commons-delivery"])
        assert all(len(delivery_ids) == 1 for delivery_ids in copies.values())
    finally:
        hub.stop()
