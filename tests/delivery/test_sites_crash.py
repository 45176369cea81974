"""A site's failover survives a crash: the hub is killed while the first route waits for its
acknowledgement, and the restarted hub tries the next route when that wait ends — the
decision was a due time in the database, not a timer in the dead process."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.mqtt import Subscriber
from tests.support.receivers import Receiver
from tests.support.server import HubProcess, process_database
from tests.support.services import need
from tests.support.waiting import until_blocking

ADMIN = "ac_sites-crash-admin-token-0123456789abcdefghijk"
ACK_TIMEOUT_S = 3


def test_failover_decision_survives_sigkill(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    mqtt = Subscriber(f"{prefix}/alert/+")
    url = process_database(database_url)
    hub = HubProcess(tmp_path / "data", ADMIN, url)
    hub.start()
    try:
        issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        rx = hub.org("Newsroom", "receiver")
        rx_headers = {"Authorization": f"Bearer {rx['token']}"}
        with httpx.Client(base_url=hub.url, headers=rx_headers) as client:
            put = client.put("/api/v1/sites/newsroom", json={"ack_timeout_s": ACK_TIMEOUT_S})
            assert put.status_code == 201, put.text
            for route in (
                {"channel": "webhook", "url": receiver.url("/ok/silent"), "route_order": 0},
                {"channel": "mqtt", "port": 1883, "topic_prefix": prefix, "format": "json"},
            ):
                made = client.post("/api/v1/endpoints", json={**route, "site": "newsroom"})
                assert made.status_code == 201, made.text
        published = httpx.post(
            f"{hub.url}/api/v1/alerts",
            content=xml(make_alert("metro.tokyo.jp", ["131016"])),
            headers={"Authorization": f"Bearer {issuer['token']}", **CAP_XML},
        )
        assert published.status_code == 201, published.text
        alert_id = published.json()["id"]

        until_blocking(lambda: receiver.count() >= 1, what="the first route never delivered")
        hub.kill()  # the first route is made, unacknowledged; its timeout has not run out
        assert mqtt.received() == [], "the next route went out before the crash"

        hub.start()
        until_blocking(
            lambda: mqtt.received(), seconds=30, what="the restarted hub never failed over"
        )
        payload = json.loads(mqtt.received()[0][1])
        assert payload["id"] == alert_id
        ack = httpx.post(
            f"{hub.url}/api/v1/deliveries/{payload['delivery_id']}/ack", headers=rx_headers
        )
        assert ack.status_code in (200, 202), ack.text

        def reached() -> bool:
            board = httpx.get(
                f"{hub.url}/api/v1/alerts/{alert_id}/deliveries",
                headers={"Authorization": f"Bearer {ADMIN}"},
            ).json()
            return bool(board["sites"]) and board["sites"][0]["state"] == "reached"

        until_blocking(reached, what="the site was never reached after the restart")
    finally:
        hub.stop()
        mqtt.stop()
