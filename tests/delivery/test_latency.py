"""Latency is measured from the moment the hub sends to the receiver's response, for every
delivery: a retry's wait is no part of it, and a slow answer is."""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.delivery.dispatcher import DispatchSettings
from tests.delivery.test_webhook import endpoint, publish, report
from tests.support.alerts import make_alert
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"


async def _latencies(hub: Hub, alert_id: str) -> dict[str, Any]:
    state = await report(hub, {"headers": hub.admin}, alert_id)  # an admin sees labels
    if state["delivered"] + state["acknowledged"] < 2:
        return {}
    return {item["label"]: item["latency_ms"] for item in state["items"]}


async def test_latency_is_from_send_to_response(hub: Hub, receiver: Receiver) -> None:
    # Retries wait about 0.5 s, then 1 s: long next to a loopback answer.
    hub.services.dispatcher.settings = DispatchSettings(retry_base_seconds=0.5, poll_seconds=0.05)
    issuer = await hub.org("東京都", TOKYO, ["13"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    await endpoint(hub, tv, receiver.url("/flaky/2/retried"), label="retried")
    await endpoint(hub, tv, receiver.url("/delay/300/slow"), label="slow")
    published = await publish(hub, issuer, make_alert(TOKYO, ["131016"]))

    found: dict[str, Any] = {}

    async def both() -> bool:
        found.update(await _latencies(hub, published["id"]))
        return len(found) == 2

    await until(both, 20)
    tries = receiver.for_path("/flaky/2/retried")
    assert len(tries) == 3
    waited_ms = (tries[-1].at - tries[0].at) * 1000
    # Set for every delivery; the retried one counts only its last attempt, not the waits.
    assert found["retried"] is not None and 0 <= found["retried"] < waited_ms
    assert found["slow"] is not None and found["slow"] >= 300  # the receiver's answer counts
