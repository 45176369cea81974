"""Email through a real SMTP server (aiosmtpd) and MQTT through the real Mosquitto broker."""

from __future__ import annotations

import email
import json
import uuid
from collections.abc import Iterator
from email.policy import default
from typing import Any

import pytest

from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber, retained
from tests.support.services import need
from tests.support.smtp import Inbox, smtp_server
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as running:
        yield running


async def _setup(hub: Hub, **endpoint: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    hub.dispatch_fast()
    issuer = await hub.org("東京都", TOKYO, ["13"])
    rx = await hub.org("Signage", None, [], kind="receiver")
    response = await hub.client.post("/api/v1/endpoints", json=endpoint, headers=rx["headers"])
    assert response.status_code == 201, response.text
    return issuer, rx


async def _publish(hub: Hub, issuer: dict[str, Any], alert: Any) -> str:
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**issuer["headers"], **CAP_XML}
    )
    assert response.status_code == 201
    alert_id: str = response.json()["id"]
    return alert_id


async def test_email_with_japanese_subject(hub: Hub, smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    issuer, _ = await _setup(
        hub, channel="email", to=["bousai@example.jp"], smtp_host="127.0.0.1", smtp_port=port
    )
    alert_id = await _publish(hub, issuer, make_alert(TOKYO, ["131016"]))
    await until(lambda: inbox.messages)
    (raw,) = inbox.messages
    assert b"=?utf-8?" in raw.lower()  # the subject is RFC 2047 encoded on the wire
    message = email.message_from_bytes(raw, policy=default)
    assert message["Subject"] == "【警戒レベル4】避難指示"
    assert message["X-Alert-Commons-Alert"] == alert_id
    kinds = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html", "application/cap+xml"} <= set(kinds)
    plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert "避難指示" in plain.get_content()


async def test_mqtt_alert_and_area_pointers_retained_until_cancelled(hub: Hub) -> None:
    # Topic layout 2 (docs/receivers.md): the alert once under alert/{id}, a small pointer
    # per area under {code}/{id}, both retained while in force. (Layout 1 put the whole
    # alert on {code}, once per area, and could retain one alert per area only.)
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer, _ = await _setup(hub, channel="mqtt", host="127.0.0.1", port=1883, topic_prefix=prefix)
    live = Subscriber(f"{prefix}/#")
    try:
        alert = make_alert(TOKYO, ["131016"])
        alert_id = await _publish(hub, issuer, alert)
        await until(lambda: len(live.messages) == 2)
        by_topic = dict(zip(live.topics, live.messages, strict=True))
        assert b"<Signature" in by_topic[f"{prefix}/alert/{alert_id}"][0]
        pointer = json.loads(by_topic[f"{prefix}/13101/{alert_id}"][0])
        assert pointer["alert_topic"] == f"{prefix}/alert/{alert_id}"

        # a sign that comes online afterwards finds both, retained
        assert set(retained(f"{prefix}/#")) == {
            f"{prefix}/alert/{alert_id}",
            f"{prefix}/13101/{alert_id}",
        }

        cancel = make_alert(TOKYO, ["131016"], msg_type="Cancel", references=reference_to(alert))
        cancel_id = await _publish(hub, issuer, cancel)
        await until(lambda: any(cancel_id in topic for topic in live.topics))
        assert retained(f"{prefix}/#") == {}  # nothing retained once cancelled
    finally:
        live.stop()
