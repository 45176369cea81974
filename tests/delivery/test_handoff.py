"""A fresh alert's deliveries are handed to this hub's dispatcher in the publish transaction
(``Dispatcher.lend``): sent without a claim, never sent if that transaction fails, and back
through the normal claim when the lease of rows handed off but never sent runs out."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, select

from alertcommons.delivery.dispatcher import Dispatcher
from alertcommons.store import audit
from alertcommons.store import deliveries as delivery_queries
from alertcommons.store.schema import deliveries
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

ENDPOINTS = 12


async def _endpoints(hub: Hub, receiver: Receiver) -> dict[str, Any]:
    issuer = await hub.org("気象庁", "jma.go.jp", ["*"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for n in range(ENDPOINTS):
        body = {"channel": "webhook", "url": receiver.url(f"/ok/h{n}")}
        response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert response.status_code == 201
    return issuer


async def _publish(hub: Hub, issuer: dict[str, Any]) -> Any:
    alert = make_alert("jma.go.jp", ["131016"])
    headers = {**issuer["headers"], **CAP_XML}
    return await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)


def _rows(connection: Connection) -> list[Any]:
    return list(connection.execute(select(deliveries.c.state, deliveries.c.attempts)))


async def _all_recorded(hub: Hub) -> bool:
    return all(state == "delivered" for state, _ in await hub.services.store.read(_rows))


def _count_claims(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    claimed: list[str] = []
    real = delivery_queries.claim_due

    def counting(*args: Any, **kwargs: Any) -> delivery_queries.ClaimRound:
        found = real(*args, **kwargs)
        claimed.extend(c.id for c in found.claimed)
        return found

    monkeypatch.setattr(delivery_queries, "claim_due", counting)
    return claimed


async def test_a_fresh_alert_is_sent_without_a_claim(
    hub: Hub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.dispatch_fast()
    issuer = await _endpoints(hub, receiver)
    claimed = _count_claims(monkeypatch)
    response = await _publish(hub, issuer)
    assert response.json()["deliveries"] == ENDPOINTS
    await until(lambda: receiver.count() >= ENDPOINTS)
    await until(lambda: _all_recorded(hub))
    rows = await hub.services.store.read(_rows)
    assert sorted(rows) == [("delivered", 1)] * ENDPOINTS
    assert claimed == []  # no claim took them: the publish did


async def test_a_publish_that_does_not_commit_sends_nothing_and_gives_the_room_back(
    hub: Hub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.dispatch_fast(lease_seconds=30)  # the room must come back at once, not with a lease
    dispatcher = hub.services.dispatcher
    issuer = await _endpoints(hub, receiver)
    lent: list[int] = []
    real_lend = dispatcher.lend

    def lend(alert_id: str, rows: list[dict[str, Any]]) -> Any:
        until_ = real_lend(alert_id, rows)
        lent.append(sum(row["state"] == "sending" for row in rows))
        return until_

    monkeypatch.setattr(hub.services.outbox, "handoff", lend)

    def fail(*args: Any, **kwargs: Any) -> None:  # after the outbox, in the same transaction
        raise RuntimeError("the audit append failed")

    monkeypatch.setattr(audit, "append_many", fail)
    with pytest.raises(Exception, match="audit append failed"):
        await _publish(hub, issuer)
    assert lent and lent[-1] == ENDPOINTS  # it was lent the room ...
    assert dispatcher.in_flight == 0  # ... and the failed publish gave it back
    assert await hub.services.store.read(_rows) == []
    assert receiver.count() == 0


async def test_rows_handed_off_but_never_sent_come_back_when_the_lease_runs_out(
    hub: Hub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.dispatch_fast(lease_seconds=0.6)
    issuer = await _endpoints(hub, receiver)
    claimed = _count_claims(monkeypatch)
    # the node "dies" between the commit and the sends: nothing starts them
    monkeypatch.setattr(Dispatcher, "handed_off", lambda self, alert_id: 0)
    response = await _publish(hub, issuer)
    assert response.status_code == 201
    assert {row[0] for row in await hub.services.store.read(_rows)} == {"sending"}
    await until(lambda: receiver.count() >= ENDPOINTS, 15)
    await until(lambda: _all_recorded(hub))
    assert len(claimed) == ENDPOINTS  # the claim took them once their lease ran out
    rows = await hub.services.store.read(_rows)
    assert sorted(rows) == [("delivered", 2)] * ENDPOINTS


async def test_claimed_rows_whose_alert_could_not_be_read_come_back(
    hub: Hub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim round whose read of the alert fails (a database hiccup) sends nothing: its
    rows must not stay counted in flight, their leases renewed for ever."""
    hub.dispatch_fast(lease_seconds=0.6)
    dispatcher = hub.services.dispatcher
    await dispatcher.stop()  # started again below: the lease renewal runs at the new lease
    dispatcher._stopping = False
    await dispatcher.start()
    hub.services.outbox.handoff = None  # the claim takes the rows, as on PostgreSQL
    issuer = await _endpoints(hub, receiver)
    real_load = Dispatcher._load
    failures = [1]

    def flaky(self: Dispatcher, connection: Connection, *ids: Any) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("the read failed")
        real_load(self, connection, *ids)

    monkeypatch.setattr(Dispatcher, "_load", flaky)
    response = await _publish(hub, issuer)
    assert response.status_code == 201
    await until(lambda: failures[0] == 0)
    assert dispatcher.in_flight == 0  # the failed round gave its room back
    await until(lambda: receiver.count() >= ENDPOINTS, 15)  # the leases ran out: claimed again
    await until(lambda: _all_recorded(hub))
    assert dispatcher.in_flight == 0 and not dispatcher._busy


async def test_endpoints_and_matching_are_ready_before_the_first_alert(
    hub: Hub, receiver: Receiver
) -> None:
    """While idle, the dispatcher opens every active endpoint's settings and the outbox builds
    its matching index: the first alert after a change does not pay for either."""
    hub.dispatch_fast(poll_seconds=0.05)
    dispatcher = hub.services.dispatcher
    await _endpoints(hub, receiver)
    dispatcher.wake()  # an idle round follows at once
    await until(lambda: len(dispatcher._endpoints) == ENDPOINTS)
    outbox = hub.services.outbox
    await until(lambda: outbox._matcher is not None and len(outbox._matcher.filters) == ENDPOINTS)


async def test_a_batch_the_channel_cannot_start_is_retried_and_gives_its_room_back(
    hub: Hub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Webhooks go to their channel as one batch (``send_many``); a channel that fails while
    starting it must neither lose those deliveries nor keep them counted in flight."""
    hub.dispatch_fast()
    dispatcher = hub.services.dispatcher
    channel = dispatcher.channels["webhook"]
    real = channel.send_many  # type: ignore[attr-defined]
    failures = [1]

    def failing_once(outgoing: list[Any], finished: Any) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("the channel broke")
        real(outgoing, finished)

    monkeypatch.setattr(channel, "send_many", failing_once)
    issuer = await _endpoints(hub, receiver)
    response = await _publish(hub, issuer)
    assert response.status_code == 201
    await until(lambda: receiver.count() >= ENDPOINTS, 15)
    await until(lambda: _all_recorded(hub))
    assert failures == [0]
    rows = await hub.services.store.read(_rows)
    assert sorted(rows) == [("delivered", 2)] * ENDPOINTS  # the failed start was attempt 1
    assert dispatcher.in_flight == 0 and not dispatcher._busy


async def test_a_failing_outcome_listener_neither_holds_room_nor_keeps_outcomes_unwritten(
    hub: Hub, receiver: Receiver
) -> None:
    hub.dispatch_fast()
    dispatcher = hub.services.dispatcher
    calls: list[str] = []

    def broken(channel: str, outcome: Any) -> None:
        calls.append(outcome.id)
        raise RuntimeError("a metrics bug")

    dispatcher.on_outcome.insert(0, broken)
    issuer = await _endpoints(hub, receiver)
    assert (await _publish(hub, issuer)).status_code == 201
    await until(lambda: _all_recorded(hub))
    assert len(calls) == ENDPOINTS
    assert dispatcher.in_flight == 0 and not dispatcher._busy


async def test_a_channel_failing_to_close_does_not_stop_the_last_outcomes_being_written(
    hub: Hub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.dispatch_fast()
    dispatcher = hub.services.dispatcher

    async def broken_close() -> None:
        raise RuntimeError("the broker went away")

    monkeypatch.setattr(dispatcher.channels["mqtt"], "close", broken_close)
    issuer = await _endpoints(hub, receiver)
    assert (await _publish(hub, issuer)).status_code == 201
    await until(lambda: receiver.count() >= ENDPOINTS)
    await dispatcher.stop()  # logs the failed close, and still writes what was settled
    assert dispatcher._outcomes == []
    await until(lambda: _all_recorded(hub))
