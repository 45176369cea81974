"""Forged acknowledgements: only the receiving organization acknowledges, only what was delivered.

A receiver that acknowledges deliveries it never got (a down siren controller, another
organization's endpoint) must change nothing: retries go on, and the nationwide test's
``not_reached`` still names the offline equipment.
"""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.cap import read_alert
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.server import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.anyio


async def _endpoint(hub: Hub, org: dict[str, Any], url: str, label: str, wait_s: int = 1) -> str:
    body = {
        "channel": "webhook",
        "url": url,
        "label": label,
        "timeout_seconds": wait_s,
        "filter": {"areas": ["131016"], "statuses": ["Actual", "Test"]},
    }
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=org["headers"])
    assert response.status_code == 201, response.text
    endpoint_id: str = response.json()["id"]
    return endpoint_id


async def _test_report(hub: Hub, test_id: str) -> dict[str, Any]:
    response = await hub.client.get(f"/api/v1/jp/national-tests/{test_id}", headers=hub.admin)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _by_endpoint(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["endpoint_id"]: item for item in report["items"]}


async def test_forged_acks_leave_the_offline_siren_in_not_reached(
    hub: Hub, receiver: Receiver
) -> None:
    hub.dispatch_fast(retry_base_seconds=0.2)
    forger = await hub.org("千代田区防災無線", None, [], kind="receiver")
    other = await hub.org("放送局", None, [], kind="receiver")
    siren = await _endpoint(hub, forger, f"http://127.0.0.1:{free_port()}/siren", "屋外拡声子局")
    signage = await _endpoint(hub, forger, receiver.url("/ok/signage"), "サイネージ")
    # a panel that takes the request and never answers: its send is in flight for 3 s
    panel = await _endpoint(hub, forger, receiver.url("/hang/panel"), "表示盤", wait_s=3)
    broadcaster = await _endpoint(hub, other, receiver.url("/ok/tv"), "放送")

    started = await hub.client.post("/api/v1/jp/national-tests", headers=hub.admin)
    assert started.status_code == 201, started.text
    test_id = started.json()["id"]

    async def items() -> dict[str, dict[str, Any]]:
        return _by_endpoint(await _test_report(hub, test_id))

    async def signage_delivered_panel_in_flight() -> bool:
        return (await items())[signage]["state"] == "delivered" and bool(
            receiver.for_path("/hang/panel")
        )

    await until(signage_delivered_panel_in_flight)
    # A CAP Ack whose reference comes from the message itself, sent while the panel's send is
    # still in flight: the signage's delivery counts, the panel's is held on its outcome, the
    # siren's (never delivered) is untouched.
    sample = read_alert(receiver.for_path("/ok/signage")[0].body).alert
    ack = make_alert("forger.example", [], msg_type="Ack", references=reference_to(sample))
    ack.infos.clear()
    answered = await hub.client.post(
        "/api/v1/alerts", content=xml(ack), headers={**forger["headers"], **CAP_XML}
    )
    assert answered.status_code == 200, answered.text
    now = await items()
    assert answered.json()["acknowledged"] == [now[signage]["id"]]
    # the panel's send is in flight; the siren's may be too, for a moment between retries
    held = set(answered.json()["held"])
    assert now[panel]["id"] in held and held <= {now[panel]["id"], now[siren]["id"]}

    async def siren_failed_once() -> bool:
        item = (await items())[siren]
        return bool(item["state"] == "pending" and item["last_error"])

    await until(siren_failed_once)
    now = await items()
    # The HTTP acknowledgement of the down siren: refused, nothing changes.
    refused = await hub.client.post(
        f"/api/v1/deliveries/{now[siren]['id']}/ack", headers=forger["headers"]
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    # Another organization's delivery: not the forger's, so not found.
    foreign = await hub.client.post(
        f"/api/v1/deliveries/{now[broadcaster]['id']}/ack", headers=forger["headers"]
    )
    assert foreign.status_code == 404, foreign.text
    # The admin does not acknowledge for a receiver either.
    by_admin = await hub.client.post(
        f"/api/v1/deliveries/{now[siren]['id']}/ack", headers=hub.admin
    )
    assert by_admin.status_code == 404, by_admin.text

    # Retries go on after the forged acknowledgements; the panel's send timed out, so the
    # acknowledgement held for it is void and it is retried too.
    siren_attempts = now[siren]["attempts"]

    async def both_retried() -> bool:
        later = await items()
        return bool(later[siren]["attempts"] > siren_attempts and later[panel]["attempts"] >= 2)

    await until(both_retried)
    final = await _test_report(hub, test_id)
    last = _by_endpoint(final)
    assert last[signage]["state"] == "acknowledged"
    assert last[broadcaster]["state"] == "delivered"
    assert last[siren]["state"] == "pending" and last[siren]["acknowledged_at"] is None
    assert last[panel]["state"] == "pending" and last[panel]["acknowledged_at"] is None
    not_reached = {item["endpoint_id"] for item in final["not_reached"]}
    assert not_reached == {siren, panel}
    assert final["acknowledged"] == 1
