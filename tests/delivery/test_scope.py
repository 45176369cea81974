"""Scope and addresses decide who may be reached (issue 10, row 4): a Restricted or Private
alert never reaches another organization's endpoint, only the receivers its addresses name
(or, Restricted with no addresses, the issuer's own endpoints) — nor the public surfaces."""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.cap import Alert
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CHIYODA = "city.chiyoda.tokyo.jp"


async def _endpoint(hub: Hub, org: dict[str, Any], receiver: Receiver, path: str) -> None:
    body = {"channel": "webhook", "url": receiver.url(path), "filter": {"areas": ["13"]}}
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=org["headers"])
    assert response.status_code == 201, response.text


async def _publish(hub: Hub, org: dict[str, Any], alert: Alert) -> dict[str, Any]:
    headers = {**org["headers"], **CAP_XML}
    response = await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)
    assert response.status_code == 201, response.text
    published: dict[str, Any] = response.json()
    return published


def _scoped(scope: str, addresses: str | None = None, **kwargs: Any) -> Alert:
    alert = make_alert(CHIYODA, ["131016"], **kwargs)
    alert.scope = scope
    alert.addresses = addresses
    if scope == "Restricted":
        alert.restriction = "防災関係機関限り"
    return alert


async def test_restricted_and_private_reach_only_their_audience(
    hub: Hub, receiver: Receiver
) -> None:
    chiyoda = await hub.org("東京都千代田区", CHIYODA, ["131016"], kind="both")
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    police = await hub.org("警視庁", "police.metro.tokyo.jp", ["13"], kind="both")
    await _endpoint(hub, chiyoda, receiver, "/chiyoda")
    await _endpoint(hub, tv, receiver, "/tv")
    await _endpoint(hub, police, receiver, "/police")

    restricted = await _publish(hub, chiyoda, _scoped("Restricted"))
    assert restricted["deliveries"] == 1  # the issuer's own endpoint only
    private = await _publish(
        hub, chiyoda, _scoped("Private", f'police.metro.tokyo.jp "{tv["id"]}"')
    )
    assert private["deliveries"] == 2  # named by sender, and by organization id
    named = await _publish(hub, chiyoda, _scoped("Restricted", "police.metro.tokyo.jp"))
    assert named["deliveries"] == 1
    public = await _publish(hub, chiyoda, _scoped("Public"))
    assert public["deliveries"] == 3

    await until(lambda: receiver.count() >= 7, 20)
    got = {
        path: {r.headers["webhook-id"] for r in receiver.for_path(path)}
        for path in ("/chiyoda", "/tv", "/police")
    }
    assert got["/chiyoda"] == {restricted["id"], public["id"]}
    assert got["/tv"] == {private["id"], public["id"]}
    assert got["/police"] == {private["id"], named["id"], public["id"]}

    # Not on the public surfaces either.
    listed = (await hub.client.get("/api/v1/alerts")).json()["items"]
    assert [item["id"] for item in listed] == [public["id"]]
    page = await hub.client.get(f"/alerts/{restricted['id']}")
    assert page.status_code == 404
    feed = (await hub.client.get("/feeds/all.atom")).text
    assert restricted["id"] not in feed and private["id"] not in feed


async def test_restricted_cancel_of_public_alert_stays_restricted(
    hub: Hub, receiver: Receiver
) -> None:
    chiyoda = await hub.org("東京都千代田区", CHIYODA, ["131016"], kind="both")
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    await _endpoint(hub, chiyoda, receiver, "/chiyoda")
    await _endpoint(hub, tv, receiver, "/tv")
    original = make_alert(CHIYODA, ["131016"])
    assert (await _publish(hub, chiyoda, original))["deliveries"] == 2
    cancel = _scoped("Restricted", msg_type="Cancel", references=reference_to(original))
    published = await _publish(hub, chiyoda, cancel)
    # the broadcaster was sent the original, yet a Restricted cancel is not for it
    assert published["deliveries"] == 1
