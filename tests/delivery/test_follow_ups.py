"""Updates and lifts reach everyone who got the original, on every channel.

A level-4 order is Severe and Immediate; its lift is a Minor message of another event. Each
receiver below filters on severity, urgency, event and area so that the lift alone would not
pass, and each must still get it: a webhook, an email inbox, an MQTT subscriber, a live SSE
stream, an SSE stream that resumes after the lift with Last-Event-ID, and the area's Atom feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from lxml import etree

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.mqtt import Subscriber, retained
from tests.support.receivers import Receiver
from tests.support.server import HubProcess, free_port, running_hub
from tests.support.services import need
from tests.support.sse import SSEClient
from tests.support.waiting import until_blocking

ADMIN = "ac_followups-admin-token-0123456789abcdefghijklm"
CITY = "city.chiyoda.lg.jp"
FILTER = {
    "areas": ["13101"],
    "min_severity": "Severe",
    "min_urgency": "Immediate",
    "events": ["避難指示"],
}
SSE_PARAMS = {
    "heartbeat": "1",
    "area": "13101",
    "min_severity": "Severe",
    "min_urgency": "Immediate",
    "event": "避難指示",
}


@dataclass
class Inbox:
    messages: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[HubProcess]:
    with running_hub(tmp_path / "data", ADMIN, database_url) as process:
        yield process


def _lift(identifier: str, sent: str) -> bytes:
    """A Cancel of the order with its own info: Minor, Past, another event, the same area."""
    alert = make_alert(
        CITY,
        ["131016"],
        msg_type="Cancel",
        references=f"{CITY},{identifier},{sent}",
        event="避難指示解除",
        headline="【解除】避難指示",
        urgency="Past",
        severity="Minor",
    )
    return xml(alert)


def test_a_lift_reaches_every_channel_that_had_the_order(hub: HubProcess) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    city = hub.org("千代田区", "issuer", CITY, ["13101"])
    rx = hub.org("放送局", "receiver")
    issuer = {"Authorization": f"Bearer {city['token']}", **CAP_XML}
    receiver_headers = {"Authorization": f"Bearer {rx['token']}"}
    prefix = f"followups-{uuid.uuid4().hex[:8]}"
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with Receiver() as webhook:
        endpoints: list[dict[str, Any]] = [
            {"channel": "webhook", "url": webhook.url("/ok/tv")},
            {
                "channel": "email",
                "to": ["bousai@example.jp"],
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port,
            },
            {"channel": "mqtt", "host": "127.0.0.1", "port": 1883, "topic_prefix": prefix},
        ]
        for endpoint in endpoints:
            response = httpx.post(
                f"{hub.url}/api/v1/endpoints",
                json={**endpoint, "filter": FILTER},
                headers=receiver_headers,
            )
            assert response.status_code == 201, response.text
        mqtt = Subscriber(f"{prefix}/#")
        live = SSEClient(f"{hub.url}/api/v1/stream", SSE_PARAMS)
        try:
            until_blocking(lambda: not live.items.empty())  # the stream's first bytes came
            order = make_alert(CITY, ["131016"])
            published = httpx.post(f"{hub.url}/api/v1/alerts", content=xml(order), headers=issuer)
            assert published.status_code == 201, published.text
            order_id = published.json()["id"]
            assert published.json()["deliveries"] == 3
            event_id, _ = live.next_event()
            assert event_id == order_id
            # the order is retained on the broker while it is in force …
            until_blocking(lambda: any(order_id in t for t in retained(f"{prefix}/#")))

            lift = httpx.post(
                f"{hub.url}/api/v1/alerts",
                content=_lift(str(order.identifier), order.sent or ""),  # identifier, then sent
                headers=issuer,
            )
            assert lift.status_code == 201, lift.text
            lift_id = lift.json()["id"]
            assert lift.json()["deliveries"] == 3  # the earlier recipients, every channel

            event_id, record = live.next_event()
            assert event_id == lift_id and record["msgType"] == "Cancel"
            resumed = SSEClient(f"{hub.url}/api/v1/stream", SSE_PARAMS, last_event_id=order_id)
            event_id, _ = resumed.next_event()
            assert event_id == lift_id
            resumed.close()

            until_blocking(lambda: len(webhook.received) >= 2)
            assert [r.headers["webhook-id"] for r in webhook.received] == [order_id, lift_id]
            until_blocking(lambda: len(inbox.messages) >= 2)
            assert (
                b"Cancel" in inbox.messages[1]
                or "解除".encode() in inbox.messages[1]
                or (b"=?utf-8?" in inbox.messages[1].lower())
            )
            until_blocking(lambda: any(lift_id in t for t in mqtt.topics))
            # … and the lift clears it: a device that connects now finds no order in force
            until_blocking(lambda: not any(order_id in t for t in retained(f"{prefix}/#")))

            feed = httpx.get(f"{hub.url}/feeds/13101.atom")
            ids = [
                e.text or ""
                for e in etree.fromstring(feed.content).iter("{http://www.w3.org/2005/Atom}id")
            ]
            assert any(i.endswith(lift_id) for i in ids) and any(i.endswith(order_id) for i in ids)
        finally:
            live.close()
            mqtt.stop()
            smtp.stop()


def test_an_info_less_lift_is_in_the_area_feed(hub: HubProcess) -> None:
    city = hub.org("千代田区", "issuer", CITY, ["13101"])
    issuer = {"Authorization": f"Bearer {city['token']}", **CAP_XML}
    order = make_alert(CITY, ["131016"])
    order_id = httpx.post(f"{hub.url}/api/v1/alerts", content=xml(order), headers=issuer).json()[
        "id"
    ]
    bare = make_alert(
        CITY,
        ["131016"],
        msg_type="Cancel",
        references=f"{CITY},{order.identifier},{order.sent}",
    )
    bare.infos = []
    lift = httpx.post(f"{hub.url}/api/v1/alerts", content=xml(bare), headers=issuer)
    assert lift.status_code == 201, lift.text
    feed = httpx.get(f"{hub.url}/feeds/13101.atom").text
    assert lift.json()["id"] in feed and order_id in feed
