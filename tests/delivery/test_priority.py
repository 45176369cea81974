"""A tsunami warning published behind 2,000 queued minor deliveries reaches its receivers
before that queue drains."""

from __future__ import annotations

import pytest

from alertcommons.delivery.channels import builtin_channels
from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings
from alertcommons.delivery.outbound import LOOPBACK, OutboundPolicy
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_tsunami_jumps_the_queue(hub: Hub, receiver: Receiver) -> None:
    await hub.services.dispatcher.stop()  # let the queue build up first
    jma = await hub.org("気象庁", "jma.go.jp", ["*"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for n in range(100):
        body = {"channel": "webhook", "url": receiver.url(f"/ok/r{n}")}
        assert (
            await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        ).status_code == 201
    headers = {**jma["headers"], **CAP_XML}
    for _ in range(20):
        minor = make_alert(
            "jma.go.jp", ["131016"], urgency="Expected", severity="Minor", event="強風注意報"
        )
        response = await hub.client.post("/api/v1/alerts", content=xml(minor), headers=headers)
        assert response.json()["deliveries"] == 100
    tsunami = make_alert(
        "jma.go.jp", ["131016"], urgency="Immediate", severity="Extreme", event="大津波警報"
    )
    response = await hub.client.post("/api/v1/alerts", content=xml(tsunami), headers=headers)
    tsunami_id = response.json()["id"]

    dispatcher = Dispatcher(
        hub.services.store,
        builtin_channels(OutboundPolicy.from_setting(LOOPBACK)),
        DispatchSettings(claim_batch=200, max_in_flight=200, poll_seconds=0.05),
    )
    hub.services.dispatcher = dispatcher
    await dispatcher.start()
    await until(lambda: receiver.count() >= 2100, 60)

    order = [r.headers["webhook-id"] for r in sorted(receiver.received, key=lambda r: r.at)]
    tsunami_positions = [i for i, alert_id in enumerate(order) if alert_id == tsunami_id]
    assert len(tsunami_positions) == 100
    # every tsunami delivery went out before the minor queue had even half drained
    assert max(tsunami_positions) < 1000, max(tsunami_positions)
