"""What a receiver gets in JSON is the API's record of the alert: no field of the hub's own
bookkeeping (the dispatcher once leaked ``received_at_epoch``, its latency clock)."""

from __future__ import annotations

import json
import uuid

import pytest

from alertcommons.delivery.dispatcher import DispatchSettings
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.mqtt import retained
from tests.support.receivers import Receiver
from tests.support.services import need
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
TOKYO = "metro.tokyo.jp"


async def _published(hub: Hub, endpoints: list[dict[str, object]]) -> str:
    issuer = await hub.org("東京都", TOKYO, ["13"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for body in endpoints:
        response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert response.status_code == 201, response.text
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(TOKYO, ["131016"])),
        headers={**issuer["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def _record(hub: Hub, alert_id: str) -> dict[str, object]:
    response = await hub.client.get(f"/api/v1/alerts/{alert_id}")
    assert response.status_code == 200, response.text
    found: dict[str, object] = response.json()
    return found


async def test_json_webhook_and_mqtt_payloads_carry_the_api_record_only(
    hub: Hub, receiver: Receiver, fast_dispatch: DispatchSettings
) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    alert_id = await _published(
        hub,
        [
            {"channel": "webhook", "url": receiver.url("/json"), "format": "json"},
            {"channel": "mqtt", "port": 1883, "topic_prefix": prefix, "format": "json"},
        ],
    )
    await until(lambda: len(receiver.for_path("/json")) == 1)
    await until(lambda: f"{prefix}/alert/{alert_id}" in retained(f"{prefix}/#"))
    expected = set(await _record(hub, alert_id)) | {"delivery_id"}
    (got,) = receiver.for_path("/json")
    webhook = json.loads(got.body)
    mqtt = json.loads(retained(f"{prefix}/#")[f"{prefix}/alert/{alert_id}"])
    for payload in (webhook, mqtt):
        assert "received_at_epoch" not in payload
        assert set(payload) <= expected
        assert payload["id"] == alert_id and "received_at" in payload
