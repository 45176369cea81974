"""MQTT through real brokers: retained state equals what is in force, one payload per alert
whatever its areas, and broker sessions never shared by receivers with other credentials.

Issue 10 row 5 (Cancel of B erased A; an expired alert stayed retained), issue 11 row 14
(56 MB of retained copies for one alert over 62 areas) and row 6 (receiver B rode receiver
A's authenticated session with a wrong password).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alertcommons.cap.values import format_datetime
from alertcommons.delivery.outbound import UNDELIVERABLE
from alertcommons.jp.codes import registry
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber, private_broker, retained
from tests.support.services import need
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
TOKYO = "metro.tokyo.jp"


async def _setup(hub: Hub, **endpoint: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    hub.dispatch_fast()
    issuer = await hub.org("東京都", TOKYO, ["13"])
    rx = await hub.org("Signage", None, [], kind="receiver")
    response = await hub.client.post("/api/v1/endpoints", json=endpoint, headers=rx["headers"])
    assert response.status_code == 201, response.text
    return issuer, rx, response.json()["id"]


async def _publish(hub: Hub, issuer: dict[str, Any], alert: Any) -> str:
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**issuer["headers"], **CAP_XML}
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def test_cancel_of_b_leaves_a_retained(hub: Hub) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer, _, _ = await _setup(hub, channel="mqtt", port=1883, topic_prefix=prefix)
    a = make_alert(TOKYO, ["131016"], hours=24)
    b = make_alert(TOKYO, ["131016"], event="高齢者等避難", headline="【警戒レベル3】")
    a_id = await _publish(hub, issuer, a)
    b_id = await _publish(hub, issuer, b)
    await until(lambda: len(retained(f"{prefix}/13101/+")) == 2)

    cancel = make_alert(TOKYO, ["131016"], msg_type="Cancel", references=reference_to(b))
    cancel_id = await _publish(hub, issuer, cancel)
    await until(lambda: f"{prefix}/13101/{b_id}" not in retained(f"{prefix}/13101/+"))

    # A newcomer finds A, and only A: in force, for its area and as the alert itself.
    area = retained(f"{prefix}/13101/+")
    assert list(area) == [f"{prefix}/13101/{a_id}"]
    pointer = json.loads(area[f"{prefix}/13101/{a_id}"])
    assert pointer["alert_topic"] == f"{prefix}/alert/{a_id}"
    alerts = retained(f"{prefix}/alert/+")
    assert list(alerts) == [f"{prefix}/alert/{a_id}"]
    assert b"<Signature" in alerts[f"{prefix}/alert/{a_id}"]
    assert cancel_id not in "".join(retained(f"{prefix}/#"))  # a Cancel is never retained


async def test_expired_alert_leaves_the_broker(hub: Hub) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer, _, _ = await _setup(hub, channel="mqtt", port=1883, topic_prefix=prefix)
    alert = make_alert(TOKYO, ["131016"])
    soon = format_datetime(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3))
    alert = dataclasses.replace(alert, infos=[dataclasses.replace(alert.infos[0], expires=soon)])
    alert_id = await _publish(hub, issuer, alert)
    await until(lambda: f"{prefix}/alert/{alert_id}" in retained(f"{prefix}/#"))
    # The broker drops it at `expires` (MQTT 5 message expiry): nothing out of force stays.
    await until(lambda: retained(f"{prefix}/#") == {}, seconds=8)


async def test_one_payload_per_alert_whatever_its_areas(hub: Hub) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer, _, _ = await _setup(hub, channel="mqtt", port=1883, topic_prefix=prefix)
    tokyo = sorted(m.code6 for m in registry().municipalities.values() if m.prefecture == "13")
    codes = tokyo[:62]
    alert = make_alert(TOKYO, codes)
    big = "避難してください。" * 5500  # ~150 KB of UTF-8, within the 50,000-character limit
    alert = dataclasses.replace(alert, infos=[dataclasses.replace(alert.infos[0], description=big)])
    live = Subscriber(f"{prefix}/#")
    try:
        alert_id = await _publish(hub, issuer, alert)
        await until(lambda: len(retained(f"{prefix}/#")) == 1 + 62)
        await until(lambda: len(live.messages) == 1 + 62)
        found = retained(f"{prefix}/#")
        payload = found.pop(f"{prefix}/alert/{alert_id}")
        assert len(payload) > 140_000
        assert len(found) == len({c[:5] for c in codes}) == 62  # one pointer per area
        assert max(len(pointer) for pointer in found.values()) < 1024
        assert sum(map(len, found.values())) + len(payload) < 2 * len(payload)
        big_ones = [p for p, _ in live.messages if len(p) > 100_000]
        assert len(big_ones) == 1  # sent once, not once per area
    finally:
        live.stop()


async def test_sessions_are_keyed_on_the_password(hub: Hub, tmp_path: Path) -> None:
    with private_broker(tmp_path, "signage-a", "correct horse battery") as broker:
        base = {"channel": "mqtt", "host": "127.0.0.1", "port": broker.port}
        secret = {"username": "signage-a", "password": "correct horse battery"}
        issuer, _, _ = await _setup(hub, **base, **secret, topic_prefix="a")
        first = await _publish(hub, issuer, make_alert(TOKYO, ["131016"]))
        await until(lambda: f"a/alert/{first}" in retained("#", broker.port, **secret))

        # Receiver B knows A's broker and username, not the password; A's session is open.
        intruder = await hub.org("Intruder", None, [], kind="receiver")
        response = await hub.client.post(
            "/api/v1/endpoints",
            json={**base, "topic_prefix": "b", "username": "signage-a", "password": "guess"},
            headers=intruder["headers"],
        )
        assert response.status_code == 201
        endpoint_b = response.json()["id"]
        second = await _publish(hub, issuer, make_alert(TOKYO, ["131016"]))

        async def b_refused() -> bool:
            view = await hub.client.get(
                f"/api/v1/endpoints/{endpoint_b}", headers=intruder["headers"]
            )
            return bool(view.json()["last_error"] == UNDELIVERABLE)

        await until(b_refused)
        await until(lambda: f"a/alert/{second}" in retained("#", broker.port, **secret))
        found = retained("#", broker.port, **secret)
        assert [topic for topic in found if topic.startswith("b/")] == []
        view = await hub.client.get(f"/api/v1/endpoints/{endpoint_b}", headers=intruder["headers"])
        assert view.json()["last_success_at"] is None


async def test_cancel_clears_every_area_the_broker_holds(hub: Hub) -> None:
    """A Cancel naming fewer areas than its alert still clears all of them: the hub asks the
    broker what it retains (so a restart or another hub node in between changes nothing)."""
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer, _, _ = await _setup(hub, channel="mqtt", port=1883, topic_prefix=prefix)
    alert = make_alert(TOKYO, ["131016", "131024"])
    await _publish(hub, issuer, alert)
    await until(lambda: len(retained(f"{prefix}/#")) == 3)  # the alert and two pointers
    cancel = make_alert(TOKYO, ["131016"], msg_type="Cancel", references=reference_to(alert))
    await _publish(hub, issuer, cancel)
    await until(lambda: retained(f"{prefix}/#") == {})
