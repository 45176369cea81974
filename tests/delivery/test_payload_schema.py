"""The JSON payload of webhooks and MQTT has a documented schema
(docs/schemas/alert-payload.schema.json, described in docs/receivers.md): what a real
webhook receiver and a real MQTT subscriber get validates against it, and every member they
get is documented there."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.delivery.test_webhook import endpoint, fast, publish
from tests.support.alerts import make_alert
from tests.support.hub import Hub
from tests.support.mqtt import retained
from tests.support.receivers import Receiver
from tests.support.services import need
from tests.support.waiting import until

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "schemas" / "alert-payload.schema.json").read_text())
TOKYO = "metro.tokyo.jp"


def _check(document: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema_rs.validator_for({**SCHEMA, **schema}).validate(document)
    assert set(document) <= set(schema.get("properties", SCHEMA["properties"])), set(document)


def test_the_guide_points_at_the_schema() -> None:
    assert "schemas/alert-payload.schema.json" in (DOCS / "receivers.md").read_text()


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_webhook_and_mqtt_json_payloads_follow_the_schema(
    hub: Hub, receiver: Receiver
) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    fast(hub)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer = await hub.org("東京都", TOKYO, ["13"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    await endpoint(hub, tv, receiver.url("/ok/json"), format="json")
    mqtt = {"channel": "mqtt", "port": 1883, "topic_prefix": prefix, "format": "json"}
    response = await hub.client.post("/api/v1/endpoints", json=mqtt, headers=tv["headers"])
    assert response.status_code == 201, response.text
    published = await publish(hub, issuer, make_alert(TOKYO, ["131016"]))

    await until(lambda: _now(len(receiver.for_path("/ok/json")) == 1))
    (got,) = receiver.for_path("/ok/json")
    _check(json.loads(got.body), {})

    found: dict[str, bytes] = {}

    async def on_broker() -> bool:
        found.update(retained(f"{prefix}/#"))
        return len(found) == 2

    await until(on_broker)
    _check(json.loads(found[f"{prefix}/alert/{published['id']}"]), {})
    pointer = SCHEMA["$defs"]["pointer"]
    _check(json.loads(found[f"{prefix}/13101/{published['id']}"]), pointer)


async def _now(value: bool) -> bool:
    return value
