"""Receivers that are slow or never answer cost only their own deliveries: a national warning
still reaches healthy receivers at once, and a slow receiver gets each alert once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from alertcommons.delivery.channels import builtin_channels
from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings
from alertcommons.store.schema import deliveries
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
CAS = "cas.go.jp"  # 内閣官房


@pytest.fixture
def stuck() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def healthy() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def _endpoint(hub: Hub, headers: dict[str, str], url: str, areas: list[str]) -> None:
    body = {
        "channel": "webhook",
        "url": url,
        "timeout_seconds": 60,
        "filter": {"areas": areas, "statuses": ["Actual", "Exercise"]},
    }
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def _backlog(
    hub: Hub, stuck: Receiver, healthy: Receiver, *, hanging: int, answering: int, alerts: int
) -> dict[str, Any]:
    """With the dispatcher stopped, so that the backlog builds up first as after an outage:
    ``hanging`` endpoints in Tokyo that accept and never answer, ``answering`` healthy ones in
    Miyagi (04), and ``alerts`` minor alerts for Tokyo waiting. Returns the national issuer."""
    await hub.services.dispatcher.stop()
    cas = await hub.org("内閣官房", CAS, ["*"])
    tokyo = await hub.org("千代田区", "city.chiyoda.lg.jp", ["13101"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for n in range(hanging):
        await _endpoint(hub, rx["headers"], stuck.url(f"/hang/e{n}"), ["13"])
    for n in range(answering):
        await _endpoint(hub, rx["headers"], healthy.url(f"/ok/h{n}"), ["04"])
    headers = {**tokyo["headers"], **CAP_XML}
    for _ in range(alerts):
        minor = make_alert("city.chiyoda.lg.jp", ["131016"], severity="Minor", event="避難所")
        response = await hub.client.post("/api/v1/alerts", content=xml(minor), headers=headers)
        assert response.json()["deliveries"] == hanging
    return cas


async def _sending(hub: Hub) -> int:
    query = select(func.count()).where(deliveries.c.state == "sending")
    return int(await hub.services.store.read(lambda c: c.execute(query).scalar_one()))


async def _replace_dispatcher(hub: Hub, settings: DispatchSettings) -> Dispatcher:
    dispatcher = Dispatcher(
        hub.services.store, builtin_channels(hub.services.settings.outbound_policy), settings
    )
    hub.services.dispatcher = dispatcher
    await dispatcher.start()
    return dispatcher


async def test_national_warning_is_not_held_behind_receivers_that_never_answer(
    hub: Hub, stuck: Receiver, healthy: Receiver
) -> None:
    cas = await _backlog(hub, stuck, healthy, hanging=3, answering=5, alerts=30)
    # 90 deliveries wait on 3 endpoints that accept and never answer; the room in flight is
    # smaller than that backlog.
    dispatcher = await _replace_dispatcher(
        hub, DispatchSettings(max_in_flight=20, per_endpoint=4, poll_seconds=0.05)
    )
    try:
        await until(lambda: len(stuck.received) >= 12)
        # Only what the endpoints may take is leased; the rest stays pending, unleased.
        assert await _sending(hub) == 12
        assert dispatcher.in_flight == 12

        response = await hub.client.post(
            "/api/v1/jp/national-warnings",
            headers=cas["headers"],
            json={"kind": "missile", "areas": ["04", "13"], "status": "Exercise"},
        )
        assert response.status_code == 201, response.text
        # The stuck sends hold their connections for 60 s: anything that waited for them
        # would miss this deadline by far.
        await until(lambda: len(healthy.received) >= 5, seconds=10)
        assert {r.headers["webhook-id"] for r in healthy.received} == {response.json()["id"]}
        assert len(stuck.received) <= 12 + 3  # at most the warning itself besides the backlog
    finally:
        await dispatcher.stop()


async def test_urgent_deliveries_have_room_when_every_slot_is_taken(
    hub: Hub, stuck: Receiver, healthy: Receiver
) -> None:
    cas = await _backlog(hub, stuck, healthy, hanging=10, answering=1, alerts=2)
    # Ten endpoints each hold one send: the whole room (10) is taken by receivers that hang.
    dispatcher = await _replace_dispatcher(
        hub, DispatchSettings(max_in_flight=10, per_endpoint=4, poll_seconds=0.05)
    )
    try:
        await until(lambda: len(stuck.received) >= 10)
        assert dispatcher.in_flight == 10
        response = await hub.client.post(
            "/api/v1/jp/national-warnings",
            headers=cas["headers"],
            json={"kind": "missile", "areas": ["04"], "status": "Exercise"},
        )
        assert response.status_code == 201, response.text
        await until(lambda: len(healthy.received) >= 1, seconds=10)
    finally:
        await dispatcher.stop()


async def test_slow_receiver_gets_each_alert_once(hub: Hub, healthy: Receiver) -> None:
    await hub.services.dispatcher.stop()
    tokyo = await hub.org("千代田区", "city.chiyoda.lg.jp", ["13101"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    # Each request takes 1.5 s, within the endpoint's timeout but longer than a lease.
    await _endpoint(hub, rx["headers"], healthy.url("/delay/1500/slow"), ["13"])
    headers = {**tokyo["headers"], **CAP_XML}
    for _ in range(8):
        alert = make_alert("city.chiyoda.lg.jp", ["131016"])
        response = await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)
        assert response.json()["deliveries"] == 1
    dispatcher = await _replace_dispatcher(
        hub, DispatchSettings(lease_seconds=0.6, per_endpoint=4, poll_seconds=0.05)
    )
    try:
        delivered = select(func.count()).where(deliveries.c.state == "delivered")

        async def all_delivered() -> bool:
            return (
                int(await hub.services.store.read(lambda c: c.execute(delivered).scalar_one())) == 8
            )

        await until(all_delivered)
        ids = [r.headers["webhook-id"] for r in healthy.received]
        assert len(ids) == len(set(ids)) == 8, ids
    finally:
        await dispatcher.stop()
