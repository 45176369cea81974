"""Issuers see who receives their alerts by organization name and delivery state, never the
receivers' endpoint internals (ids, organization ids, labels, raw errors naming hosts and
ports): in the delivery report API, the console board and the preview. Admins, and the
receiving organization itself, still see the details."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.server import free_port

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"
PASSWORD = "correct horse battery staple"


async def _endpoint(hub: Hub, org: dict[str, Any], url: str, label: str) -> str:
    body = {
        "channel": "webhook",
        "url": url,
        "label": label,
        "timeout_seconds": 1,
        "filter": {"areas": ["13"]},
    }
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=org["headers"])
    assert response.status_code == 201, response.text
    endpoint_id: str = response.json()["id"]
    return endpoint_id


async def _console_sign_in(hub: Hub, org: dict[str, Any]) -> None:
    created = await hub.client.post(
        f"/api/v1/organizations/{org['id']}/users",
        json={"username": "chiyoda", "display_name": "千代田", "password": PASSWORD,
              "roles": ["drafter", "approver"]},
        headers=hub.admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    page = await hub.client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    signed = await hub.client.post(
        "/console/login",
        data={"csrf_token": token.group(1), "username": "chiyoda", "password": PASSWORD},
    )
    assert signed.status_code == 303, signed.text


async def test_issuer_sees_names_and_states_not_endpoint_internals(
    hub: Hub, receiver: Receiver
) -> None:
    hub.dispatch_fast(retry_base_seconds=0.2)
    # The issuer also receives (kind "both"): its own endpoint it may see in full.
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"], kind="both")
    tv = await hub.org("テレビ局", None, [], kind="receiver")
    siren = await hub.org("防災無線会社", None, [], kind="receiver")
    port = free_port()
    tv_endpoint = await _endpoint(hub, tv, receiver.url("/ok/tv"), "TV秘密ラベル")
    down = await _endpoint(hub, siren, f"http://127.0.0.1:{port}/x", "屋外子局-内部")
    own = await _endpoint(hub, city, receiver.url("/ok/city"), "庁内サイネージ")

    published = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(CHIYODA, ["131016"])),
        headers={**city["headers"], **CAP_XML},
    )
    assert published.status_code == 201, published.text
    alert_id = published.json()["id"]
    path = f"/api/v1/alerts/{alert_id}/deliveries"

    async def settled() -> dict[str, Any]:
        for _ in range(200):
            full: dict[str, Any] = (await hub.client.get(path, headers=hub.admin)).json()
            items = {item["endpoint_id"]: item for item in full["items"]}
            if (
                items[tv_endpoint]["state"] == "delivered"
                and items[own]["state"] == "delivered"
                and items[down]["last_error"]
            ):
                return full
            await asyncio.sleep(0.05)
        raise AssertionError("deliveries did not settle")

    full = await settled()
    # The admin sees everything: labels, ids and the error (which itself names no host or
    # port, whoever reads it: see the outbound policy).
    by_endpoint = {item["endpoint_id"]: item for item in full["items"]}
    assert by_endpoint[down]["last_error"]
    assert by_endpoint[down]["label"] == "屋外子局-内部"

    secrets = [tv_endpoint, down, tv["id"], siren["id"], "TV秘密ラベル", "屋外子局-内部"]
    secrets += ["127.0.0.1", str(port), "/ok/tv"]

    seen = await hub.client.get(path, headers=city["headers"])
    assert seen.status_code == 200
    for secret in secrets:
        assert secret not in seen.text, secret
    report = seen.json()
    named = {item["organization"]: item for item in report["items"]}
    assert set(named) == {"テレビ局", "防災無線会社", "東京都千代田区"}
    assert named["テレビ局"]["state"] == "delivered"
    assert named["防災無線会社"]["state"] == "pending"
    assert named["防災無線会社"]["last_error"]  # a state, not the remote error
    assert named["防災無線会社"]["endpoint_id"] is None
    # its own endpoint, in full
    assert named["東京都千代田区"]["endpoint_id"] == own
    assert named["東京都千代田区"]["label"] == "庁内サイネージ"

    # The console: the board and the preview.
    await _console_sign_in(hub, city)
    board = await hub.client.get(f"/console/alerts/{alert_id}")
    assert board.status_code == 200
    for secret in secrets:
        assert secret not in board.text, secret
    assert "テレビ局" in board.text and "防災無線会社" in board.text
    assert "庁内サイネージ" in board.text
    compose = await hub.client.get("/console/compose?template=evacuation")
    token = re.search(r'name="csrf_token" value="([^"]+)"', compose.text)
    assert token
    preview = await hub.client.post(
        "/console/compose",
        data={
            "csrf_token": token.group(1),
            "template": "evacuation",
            "municipality": "131016",
            "level": "4",
            "hazard": "flood",
            "status": "Actual",
            "action": "preview",
        },
    )
    assert preview.status_code == 200, preview.text
    shown = preview.text.split('id="preview"', 1)[1]
    for secret in secrets:
        assert secret not in shown, secret
    assert "テレビ局" in shown and "防災無線会社" in shown and "庁内サイネージ" in shown
    assert '<span id="receiver-count">3</span>' in shown
