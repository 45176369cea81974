"""The failover decisions are rows: claiming a route's first attempt sets when the next route
is due, a failed attempt makes it due at once, an acknowledgement skips the rest — on SQLite
and PostgreSQL, with the dispatcher held still so each step is the store's alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alertcommons.store import deliveries as delivery_queries
from alertcommons.store.deliveries import Outcome
from alertcommons.store.schema import deliveries
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
TIMEOUT_S = 20


async def _rows(hub: Hub, alert_id: str) -> list[Any]:
    query = select(deliveries).where(deliveries.c.alert_id == alert_id).order_by(deliveries.c.route)
    return await hub.services.store.read(lambda c: list(c.execute(query)))


async def _site_alert(hub: Hub, routes: int, hours: int = 6) -> tuple[str, dict[str, str]]:
    """A receiver's site "hq" with ``routes`` webhook routes, and one alert for it: its id
    and the receiver's headers.
    The dispatcher is held still, so each step below is the store's alone."""
    hub.dispatch_fast(max_in_flight=0, urgent_reserve=0)  # the dispatcher claims nothing
    issuer = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    put = await hub.client.put(
        "/api/v1/sites/hq", json={"ack_timeout_s": TIMEOUT_S}, headers=rx["headers"]
    )
    assert put.status_code == 201
    for order in range(routes):
        body = {"channel": "webhook", "url": f"http://127.0.0.1:9/{order}", "site": "hq",
                "route_order": order}  # fmt: skip
        made = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert made.status_code == 201, made.text
    published = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131016"], hours=hours)),
        headers={**issuer["headers"], **CAP_XML},
    )
    alert_id: str = published.json()["id"]
    return alert_id, rx["headers"]


async def _claim(hub: Hub, at: datetime) -> list[str]:
    found = await hub.services.store.write(
        lambda c: delivery_queries.claim_due(c, limit=10, lease=timedelta(seconds=30), now=at)
    )
    return [c.id for c in found.claimed]


async def test_due_times_move_with_what_happens(hub: Hub) -> None:
    alert_id, receiver = await _site_alert(hub, routes=3)
    first, second, third = await _rows(hub, alert_id)
    assert [r.state for r in (first, second, third)] == ["pending", "standby", "standby"]
    assert second.due_at.year == third.due_at.year == 9999  # until the route before is tried

    # The first route is claimed late (a queue): the second waits its timeout from then.
    late = datetime.now(UTC) + timedelta(seconds=100)
    store = hub.services.store
    claimed = await store.write(
        lambda c: delivery_queries.claim_due(c, limit=10, lease=timedelta(seconds=30), now=late)
    )
    assert [c.id for c in claimed.claimed] == [first.id]  # standby routes are not due, however late
    _, second, third = await _rows(hub, alert_id)
    assert second.due_at == late + timedelta(seconds=TIMEOUT_S)
    assert third.state == "standby"

    # Its attempt fails: the second route is due at once; the third keeps waiting.
    failed = Outcome(first.id, first.endpoint_id, "pending", late, "HTTP 503", site=True)
    await store.write(lambda c: delivery_queries.record(c, [failed]))
    first, second, third = await _rows(hub, alert_id)
    assert first.state == "pending"  # it keeps retrying
    assert second.due_at <= datetime.now(UTC)
    assert third.due_at > datetime.now(UTC)

    # The second route is sent and acknowledged: the others stop, the site is reached.
    claimed = await store.write(
        lambda c: delivery_queries.claim_due(
            c, limit=10, lease=timedelta(seconds=30), now=datetime.now(UTC)
        )
    )
    assert second.id in [c.id for c in claimed.claimed]
    done = Outcome(second.id, second.endpoint_id, "delivered", at=datetime.now(UTC), site=True)
    await store.write(lambda c: delivery_queries.record(c, [done]))
    answer = await hub.client.post(f"/api/v1/deliveries/{second.id}/ack", headers=receiver)
    assert answer.status_code == 200, answer.text
    states = {r.id: r.state for r in await _rows(hub, alert_id)}
    assert states[second.id] == "acknowledged"
    assert states[third.id] == "skipped"
    assert states[first.id] == "skipped"  # its retries stop


async def test_a_route_falling_due_after_the_alert_expired_is_never_sent(hub: Hub) -> None:
    """A site's standby route (or a retry, or a lapsed lease) due after the alert's expiry
    fails in the claim: a receiver must not show an order that is already over."""
    alert_id, _ = await _site_alert(hub, routes=2, hours=1)
    first, second = await _rows(hub, alert_id)
    assert first.expires_at is not None

    # The first route is tried just before the expiry; the second would be due after it.
    assert await _claim(hub, first.expires_at - timedelta(seconds=5)) == [first.id]
    after = first.expires_at + timedelta(seconds=TIMEOUT_S + 60)  # the lease lapsed too
    assert await _claim(hub, after) == []
    first, second = await _rows(hub, alert_id)
    assert (first.state, second.state) == ("failed", "failed")
    assert second.last_error == delivery_queries.EXPIRED
