"""Receivers help themselves: a new endpoint is sent the alerts in force it matches (unless
``"backfill": false``), a re-activated one the alerts in force it missed, a filter can be
previewed against the alerts in force and of the last 7 days, and an endpoint can send
itself a test delivery — all on a real webhook receiver."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from lxml import etree

from alertcommons.cap import read_alert, verify
from alertcommons.delivery.channels.webhook import verify_signature
from alertcommons.store import audit
from tests.delivery.test_webhook import endpoint, fast, publish
from tests.support.alerts import make_alert, reference_to
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"
OSAKA = "pref.osaka.jp"


async def _deliveries(hub: Hub, alert_id: str) -> list[dict[str, Any]]:
    response = await hub.client.get(f"/api/v1/alerts/{alert_id}/deliveries", headers=hub.admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _got(receiver: Receiver, path: str) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.for_path(path)]


async def test_new_endpoint_is_sent_alerts_in_force_unless_it_asks_not_to(
    hub: Hub, receiver: Receiver
) -> None:
    fast(hub)
    tokyo = await hub.org("東京都", TOKYO, ["13"])
    osaka = await hub.org("大阪府", OSAKA, ["27"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    in_tokyo = await publish(hub, tokyo, make_alert(TOKYO, ["131016"]))
    await publish(hub, osaka, make_alert(OSAKA, ["271004"]))
    lifted = make_alert(TOKYO, ["131016"])
    await publish(hub, tokyo, lifted)
    cancel = make_alert(TOKYO, ["131016"], msg_type="Cancel", references=reference_to(lifted))
    await publish(hub, tokyo, cancel)

    created = await endpoint(hub, tv, receiver.url("/ok/new"), filter={"areas": ["13"]})
    assert created["backfilled"] == 1  # the order in force; not Osaka's, not the lifted one
    await until(lambda: _async(len(receiver.for_path("/ok/new")) == 1))
    assert _got(receiver, "/ok/new") == [in_tokyo["id"]]

    quiet = await endpoint(
        hub, tv, receiver.url("/ok/quiet"), filter={"areas": ["13"]}, backfill=False
    )
    assert quiet["backfilled"] == 0
    assert len(await _deliveries(hub, in_tokyo["id"])) == 1  # only the backfilled endpoint

    refused = await hub.client.post(
        "/api/v1/endpoints",
        json={"channel": "webhook", "url": receiver.url("/ok/x"), "backfill": "no"},
        headers=tv["headers"],
    )
    assert refused.status_code == 422 and refused.json()["path"] == "backfill"


async def _async(value: bool) -> bool:
    return value


async def test_reactivated_endpoint_is_sent_what_it_missed(hub: Hub, receiver: Receiver) -> None:
    fast(hub)
    tokyo = await hub.org("東京都", TOKYO, ["13"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    first = await publish(hub, tokyo, make_alert(TOKYO, ["131016"]))
    # An endpoint that answers 410 Gone is retired by the hub: its delivery fails for good.
    hook = await endpoint(hub, tv, receiver.url("/gone/old"), filter={"areas": ["13"]})

    async def retired() -> bool:
        got = await hub.client.get(f"/api/v1/endpoints/{hook['id']}", headers=tv["headers"])
        return got.json()["active"] is False

    await until(retired)
    path = f"/api/v1/endpoints/{hook['id']}"
    # While it is inactive, another order is issued: no delivery is made to it.
    second = await publish(hub, tokyo, make_alert(TOKYO, ["131016"]))
    assert await _deliveries(hub, second["id"]) == []

    again = await hub.client.patch(
        path, json={"url": receiver.url("/ok/back"), "active": True}, headers=tv["headers"]
    )
    assert again.status_code == 200, again.text
    assert again.json()["backfilled"] == 2  # the failed one again, and the one it missed
    await until(lambda: _async(len(receiver.for_path("/ok/back")) == 2))
    assert set(_got(receiver, "/ok/back")) == {first["id"], second["id"]}

    # Made active again while already active: nothing is sent twice.
    same = await hub.client.patch(path, json={"active": True}, headers=tv["headers"])
    assert same.status_code == 200 and "backfilled" not in same.json()


async def test_preview_of_a_filter(hub: Hub) -> None:
    tokyo = await hub.org("東京都", TOKYO, ["13"])
    osaka = await hub.org("大阪府", OSAKA, ["27"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    in_tokyo = await publish(hub, tokyo, make_alert(TOKYO, ["131016"], severity="Severe"))
    minor = await publish(hub, tokyo, make_alert(TOKYO, ["131016"], severity="Minor"))
    over = make_alert(OSAKA, ["271004"])
    in_osaka = await publish(hub, osaka, over)
    cancel = make_alert(OSAKA, ["271004"], msg_type="Cancel", references=reference_to(over))
    cancelled = await publish(hub, osaka, cancel)
    await publish(hub, tokyo, make_alert(TOKYO, ["131016"], status="Exercise"))

    async def preview(document: dict[str, Any]) -> dict[str, Any]:
        response = await hub.client.post(
            "/api/v1/endpoints/preview", json={"filter": document}, headers=tv["headers"]
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    severe = await preview({"areas": ["13"], "min_severity": "Severe"})
    assert [i["id"] for i in severe["in_force"]["items"]] == [in_tokyo["id"]]
    assert severe["days"] == 7
    tokyo_all = await preview({"areas": ["13101"]})
    assert {i["id"] for i in tokyo_all["in_force"]["items"]} == {in_tokyo["id"], minor["id"]}
    osaka_view = await preview({"areas": ["27"]})
    assert osaka_view["in_force"]["count"] == 0  # cancelled
    assert {i["id"] for i in osaka_view["last_days"]["items"]} == {
        in_osaka["id"],
        cancelled["id"],
    }
    drills = await preview({"areas": ["13"], "statuses": ["Exercise"]})
    assert drills["in_force"]["count"] == 1

    bad = await hub.client.post(
        "/api/v1/endpoints/preview",
        json={"filter": {"min_severity": "Huge"}},
        headers=tv["headers"],
    )
    assert bad.status_code == 422 and bad.json()["path"].startswith("filter/")
    issuer_only = await hub.client.post(
        "/api/v1/endpoints/preview", json={}, headers=tokyo["headers"]
    )
    assert issuer_only.status_code == 403


async def test_test_delivery_reaches_the_endpoint_alone(hub: Hub, receiver: Receiver) -> None:
    fast(hub)
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    other = await hub.org("Portal", None, [], kind="receiver")
    hook = await endpoint(hub, tv, receiver.url("/ok/tested"), filter={"areas": ["27"]})
    await endpoint(hub, tv, receiver.url("/ok/sibling"), filter={"statuses": ["Test"]})

    sent = await hub.client.post(f"/api/v1/endpoints/{hook['id']}/test", headers=tv["headers"])
    assert sent.status_code == 202, sent.text
    test = sent.json()
    await until(lambda: _async(len(receiver.for_path("/ok/tested")) == 1))
    (got,) = receiver.for_path("/ok/tested")
    assert got.headers["x-alert-commons-delivery"] == test["delivery_id"]
    parsed = read_alert(got.body)
    assert (parsed.alert.status, parsed.alert.scope) == ("Test", "Private")
    pem = (await hub.client.get("/api/v1/keys/current.pem")).content
    check = verify(etree.fromstring(got.body), [x509.load_pem_x509_certificate(pem)])
    assert (check.signature, check.certificate) == ("valid", "trusted")
    ack = await hub.client.post(test["links"]["ack"], headers=tv["headers"])
    assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
    (only,) = await _deliveries(hub, test["alert_id"])  # to this endpoint alone
    assert only["state"] == "acknowledged" and only["latency_ms"] is not None
    assert (only["site_id"], only["route"]) == (None, None)  # an endpoint of no site

    stranger = await hub.client.post(
        f"/api/v1/endpoints/{hook['id']}/test", headers=other["headers"]
    )
    assert stranger.status_code == 404
    off = await hub.client.patch(
        f"/api/v1/endpoints/{hook['id']}", json={"active": False}, headers=tv["headers"]
    )
    assert off.status_code == 200
    inactive = await hub.client.post(f"/api/v1/endpoints/{hook['id']}/test", headers=tv["headers"])
    assert inactive.status_code == 409


async def test_rotated_secret_signs_what_is_sent_next(hub: Hub, receiver: Receiver) -> None:
    fast(hub)
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    other = await hub.org("Portal", None, [], kind="receiver")
    hook = await endpoint(hub, tv, receiver.url("/ok/rotating"), filter={"areas": ["27"]})
    old = hook["secret"]

    rotated = await hub.client.post(f"/api/v1/endpoints/{hook['id']}/secret", headers=tv["headers"])
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    shown = await hub.client.get(f"/api/v1/endpoints/{hook['id']}", headers=tv["headers"])
    assert shown.json()["secret"] == "whsec_…"  # shown once, at rotation only
    assert shown.json()["filter"] == {"areas": ["27"]}  # nothing else changed

    sent = await hub.client.post(f"/api/v1/endpoints/{hook['id']}/test", headers=tv["headers"])
    assert sent.status_code == 202, sent.text
    await until(lambda: _async(len(receiver.for_path("/ok/rotating")) == 1))
    (got,) = receiver.for_path("/ok/rotating")
    assert verify_signature(new, got.headers, got.body)
    assert not verify_signature(old, got.headers, got.body)

    log = await hub.services.store.read(lambda c: audit.records(c, subject=hook["id"]))
    assert [entry["action"] for entry in log][:2] == ["endpoint.test", "endpoint.rotate_secret"]
    assert new not in str(log) and old not in str(log)  # a secret never enters the audit log

    stranger = await hub.client.post(
        f"/api/v1/endpoints/{hook['id']}/secret", headers=other["headers"]
    )
    assert stranger.status_code == 404
    mqtt = await hub.client.post(
        "/api/v1/endpoints",
        json={"channel": "mqtt", "host": "127.0.0.1", "port": 1883},
        headers=tv["headers"],
    )
    assert mqtt.status_code == 201, mqtt.text
    no_secret = await hub.client.post(
        f"/api/v1/endpoints/{mqtt.json()['id']}/secret", headers=tv["headers"]
    )
    assert no_secret.status_code == 422 and "no signing secret" in no_secret.json()["detail"]
