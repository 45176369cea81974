"""An acknowledgement and a failing route's outcome at the same moment, on PostgreSQL (several
writers): the route whose attempt failed while its site was being reached is not retried.

The failing outcome's transaction could not see the acknowledgement (not yet committed), so it
queued the route's retry; nothing stopped that retry afterwards, and the site got the alert
again by a route it no longer needed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alertcommons.store import deliveries as delivery_queries
from alertcommons.store.deliveries import Outcome
from alertcommons.store.schema import deliveries
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.pglocks import audit_head_held
from tests.support.waiting import until

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]
TIMEOUT_S = 20
LEASE = timedelta(seconds=30)


async def _rows(hub: Hub, alert_id: str) -> list[Any]:
    query = select(deliveries).where(deliveries.c.alert_id == alert_id).order_by(deliveries.c.route)
    return await hub.services.store.read(lambda c: list(c.execute(query)))


async def test_a_route_failing_while_its_site_is_acknowledged_is_not_retried(
    hub: Hub, database_url: str
) -> None:
    hub.dispatch_fast(max_in_flight=0, urgent_reserve=0)  # the dispatcher claims nothing
    store = hub.services.store
    issuer = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    await hub.client.put(
        "/api/v1/sites/hq", json={"ack_timeout_s": TIMEOUT_S}, headers=rx["headers"]
    )
    for order in (0, 1, 2):
        body = {"channel": "webhook", "url": f"http://127.0.0.1:9/{order}", "site": "hq",
                "route_order": order}  # fmt: skip
        made = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert made.status_code == 201, made.text
    published = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131016"])),
        headers={**issuer["headers"], **CAP_XML},
    )
    alert_id = published.json()["id"]
    first, second, third = await _rows(hub, alert_id)

    async def claim(at: datetime) -> list[str]:
        done = await store.write(
            lambda c: delivery_queries.claim_due(c, limit=10, lease=LEASE, now=at)
        )
        return [c.id for c in done.claimed]

    now = datetime.now(UTC)
    assert await claim(now) == [first.id]
    delivered = Outcome(first.id, first.endpoint_id, "delivered", at=now, site=True)
    await store.write(lambda c: delivery_queries.record(c, [delivered]))
    # the first route is delivered but not acknowledged in time: the second is tried
    later = now + timedelta(seconds=TIMEOUT_S + 1)
    assert await claim(later) == [second.id]

    retry = Outcome(second.id, second.endpoint_id, "pending", later, "HTTP 503", site=True)
    with audit_head_held(database_url) as (waiting, release):
        ack = asyncio.ensure_future(
            hub.client.post(f"/api/v1/deliveries/{first.id}/ack", headers=rx["headers"])
        )
        await until(lambda: waiting(1), what="the acknowledgement inside its transaction")
        outcome = asyncio.ensure_future(store.write(lambda c: delivery_queries.record(c, [retry])))
        await until(lambda: waiting(2), what="the failed attempt's outcome waiting on it")
        release()
        answer = await ack
        await outcome
    assert answer.status_code == 200, answer.text

    far = later + timedelta(days=1)
    assert await claim(far) == []  # nothing of the reached site is sent again
    states = {r.id: r.state for r in await _rows(hub, alert_id)}
    assert states == {first.id: "acknowledged", second.id: "skipped", third.id: "skipped"}
