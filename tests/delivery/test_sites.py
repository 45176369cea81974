"""Redundant routes (issue 16, item 4): one receiving site, a webhook and an MQTT route.

A real webhook receiver, the real Mosquitto on 1883, the hub on SQLite and on PostgreSQL.
The receivers acknowledge as a receiver would: over ``POST /api/v1/deliveries/{id}/ack``,
with the delivery id the message carried.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from alertcommons.store import audit
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber
from tests.support.receivers import Receiver
from tests.support.server import free_port
from tests.support.services import need
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"


class Site:
    """A receiving site of one organization: its routes, and what each route got."""

    def __init__(self, hub: Hub, prefix: str) -> None:
        self.hub = hub
        self.prefix = prefix
        self.rx: dict[str, Any] = {}
        self.issuer: dict[str, Any] = {}
        self.mqtt = Subscriber(f"{prefix}/alert/+")

    async def setup(self, webhook_url: str, ack_timeout_s: float | None = None) -> None:
        self.hub.dispatch_fast()
        self.issuer = await self.hub.org("東京都", TOKYO, ["13"])
        self.rx = await self.hub.org("Newsroom", None, [], kind="receiver")
        if ack_timeout_s is not None:
            response = await self.hub.client.put(
                "/api/v1/sites/newsroom",
                json={"ack_timeout_s": ack_timeout_s},
                headers=self.rx["headers"],
            )
            assert response.status_code == 201, response.text
        routes = [
            {"channel": "webhook", "url": webhook_url, "site": "newsroom", "route_order": 0},
            {
                "channel": "mqtt",
                "port": 1883,
                "topic_prefix": self.prefix,
                "format": "json",
                "site": "newsroom",
                "route_order": 1,
            },
        ]
        for route in routes:
            response = await self.hub.client.post(
                "/api/v1/endpoints", json=route, headers=self.rx["headers"]
            )
            assert response.status_code == 201, response.text
            assert response.json()["site"] == "newsroom"

    async def publish(self) -> str:
        response = await self.hub.client.post(
            "/api/v1/alerts",
            content=xml(make_alert(TOKYO, ["131016"])),
            headers={**self.issuer["headers"], **CAP_XML},
        )
        assert response.status_code == 201, response.text
        alert_id: str = response.json()["id"]
        return alert_id

    async def ack(self, delivery_id: str) -> None:
        response = await self.hub.client.post(
            f"/api/v1/deliveries/{delivery_id}/ack", headers=self.rx["headers"]
        )
        assert response.status_code in (200, 202), response.text

    async def board(self, alert_id: str, headers: dict[str, str] | None = None) -> Any:
        response = await self.hub.client.get(
            f"/api/v1/alerts/{alert_id}/deliveries", headers=headers or self.issuer["headers"]
        )
        assert response.status_code == 200, response.text
        return response.json()

    def mqtt_payloads(self) -> list[dict[str, Any]]:
        return [json.loads(payload) for _, payload, _ in self.mqtt.received() if payload]


@pytest.fixture
def site(hub: Hub) -> Iterator[Site]:
    need("Mosquitto", "127.0.0.1", 1883)
    made = Site(hub, f"test-{uuid.uuid4().hex[:8]}")
    yield made
    made.mqtt.stop()


def _routes(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (site,) = board["sites"]
    return {route["channel"]: route for route in site["routes"]}


async def test_primary_down_mqtt_route_reaches_the_site(site: Site) -> None:
    dead = f"http://127.0.0.1:{free_port()}/alerts"  # nothing listens there
    await site.setup(dead)
    alert_id = await site.publish()

    # The webhook cannot connect: the MQTT route is due at once, not after the timeout.
    await until(lambda: site.mqtt_payloads(), what="the MQTT route never delivered")
    (payload,) = site.mqtt_payloads()
    assert payload["id"] == alert_id
    await site.ack(payload["delivery_id"])

    async def webhook_stopped() -> bool:
        # a retry in flight when the acknowledgement came finishes first, then stops too
        return bool(_routes(await site.board(alert_id))["webhook"]["state"] == "skipped")

    await until(webhook_stopped, what="the failing route kept retrying after the site was reached")
    board = await site.board(alert_id)
    (reached,) = board["sites"]
    assert reached["state"] == "reached"
    assert reached["reached_by"] == payload["delivery_id"]
    assert reached["name"] is None  # the issuer sees the organization, not its site's name
    assert reached["organization"] == "Newsroom"
    routes = _routes(board)
    assert [routes["webhook"]["route"], routes["mqtt"]["route"]] == [0, 1]
    assert routes["mqtt"]["state"] == "acknowledged"
    assert routes["webhook"]["attempts"] >= 1

    # The receiving organization sees its site by name.
    own = await site.board(alert_id, {"Authorization": site.hub.admin["Authorization"]})
    assert own["sites"][0]["name"] == "newsroom"


async def test_both_up_one_acknowledgement_no_second_broadcast(
    site: Site, receiver: Receiver
) -> None:
    await site.setup(receiver.url("/ok/newsroom"))  # the default 30 s to acknowledge
    alert_id = await site.publish()
    await until(lambda: receiver.count() == 1, what="the webhook route never delivered")
    (got,) = receiver.received
    assert got.headers["webhook-id"] == alert_id
    await site.ack(got.headers["x-alert-commons-delivery"])
    await until(
        lambda: _state(site, alert_id, "reached"), what="the site was never counted as reached"
    )

    routes = _routes(await site.board(alert_id))
    assert routes["webhook"]["state"] == "acknowledged"
    # The MQTT route was never sent and never will be: skipped rows are not claimed.
    assert routes["mqtt"] == {**routes["mqtt"], "state": "skipped", "attempts": 0}
    assert site.mqtt_payloads() == []
    assert receiver.count() == 1
    acks = [
        r
        for r in await site.hub.services.store.read(audit.records)
        if r["action"] == "delivery.ack"
    ]
    assert len(acks) == 1


async def test_unacknowledged_primary_times_out_to_the_next_route(
    site: Site, receiver: Receiver
) -> None:
    await site.setup(receiver.url("/ok/silent"), ack_timeout_s=1)
    alert_id = await site.publish()

    # The webhook answers 200 but the site never acknowledges it: after 1 s, MQTT.
    await until(lambda: site.mqtt_payloads(), what="the next route was never tried")
    (payload,) = site.mqtt_payloads()
    await site.ack(payload["delivery_id"])
    await until(lambda: _state(site, alert_id, "reached"))

    routes = _routes(await site.board(alert_id))
    assert routes["webhook"]["state"] == "delivered"  # made, never acknowledged
    assert routes["mqtt"]["state"] == "acknowledged"
    assert receiver.count() == 1  # a delivered route is not sent again
    # Not before the site's timeout: the webhook's first attempt came after the alert was
    # received, and the MQTT route was due 1 s after that attempt.
    record = (await site.hub.client.get(f"/api/v1/alerts/{alert_id}")).json()
    received = datetime.fromisoformat(record["received_at"])
    (mqtt,) = [i for i in (await site.board(alert_id))["items"] if i["channel"] == "mqtt"]
    assert (datetime.fromisoformat(mqtt["delivered_at"]) - received).total_seconds() >= 1


async def _state(site: Site, alert_id: str, state: str) -> bool:
    board = await site.board(alert_id)
    return bool(board["sites"]) and board["sites"][0]["state"] == state
