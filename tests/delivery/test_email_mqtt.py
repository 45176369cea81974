"""Email through a real SMTP server (aiosmtpd) and MQTT through the real Mosquitto broker."""

from __future__ import annotations

import asyncio
import email
import uuid
from collections.abc import Iterator
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alertcommons.delivery.dispatcher import DispatchSettings
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber
from tests.support.server import free_port
from tests.support.services import need
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


async def _setup(hub: Hub, **endpoint: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    hub.services.dispatcher.settings = DispatchSettings(retry_base_seconds=0.05, poll_seconds=0.05)
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


async def test_email_with_japanese_subject(hub: Hub, smtp: tuple[int, _Inbox]) -> None:
    port, inbox = smtp
    issuer, _ = await _setup(
        hub, channel="email", to=["bousai@example.jp"], smtp_host="127.0.0.1", smtp_port=port
    )
    alert_id = await _publish(hub, issuer, make_alert(TOKYO, ["131016"]))
    for _ in range(200):
        if inbox.messages:
            break
        await asyncio.sleep(0.05)
    (raw,) = inbox.messages
    assert b"=?utf-8?" in raw.lower()  # the subject is RFC 2047 encoded on the wire
    message = email.message_from_bytes(raw, policy=default)
    assert message["Subject"] == "【警戒レベル4】避難指示"
    assert message["X-Alert-Commons-Alert"] == alert_id
    kinds = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html", "application/cap+xml"} <= set(kinds)
    plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert "避難指示" in plain.get_content()


async def test_mqtt_topic_per_area_retained_until_cancelled(hub: Hub) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    issuer, _ = await _setup(hub, channel="mqtt", host="127.0.0.1", port=1883, topic_prefix=prefix)
    live = Subscriber(f"{prefix}/13101")
    try:
        alert = make_alert(TOKYO, ["131016"])
        await _publish(hub, issuer, alert)
        await until(lambda: live.messages)
        assert b"<Signature" in live.messages[0][0]

        late = Subscriber(f"{prefix}/13101")  # a sign that comes online afterwards
        await until(lambda: late.messages)
        assert late.messages[0][1] is True  # the retained copy
        late.stop()

        cancel = make_alert(TOKYO, ["131016"], msg_type="Cancel", references=reference_to(alert))
        await _publish(hub, issuer, cancel)
        await until(lambda: any(b"Cancel" in payload for payload, _ in live.messages))
        after = Subscriber(f"{prefix}/13101")
        await asyncio.sleep(0.5)
        assert after.messages == []  # nothing retained once cancelled
        after.stop()
    finally:
        live.stop()
