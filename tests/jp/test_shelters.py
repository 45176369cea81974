"""Shelters open, fill and close; the disaster headquarters is set up and dissolved: each is a
CAP message chain with exact references, and the municipality's state query follows."""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.cap import read_alert
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.tokyo.jp"
SHELTER = {
    "municipality": "131016",
    "id": "kudan-es",
    "name": "九段小学校",
    "name_en": "Kudan Elementary School",
    "address": "東京都千代田区三番町16",
    "lat": 35.6905,
    "lon": 139.7440,
    "capacity": 300,
    "hazards": ["flood", "landslide"],
}


async def _state(hub: Hub) -> dict[str, Any]:
    response = await hub.client.get("/api/v1/jp/evacuation", params={"code": "13101"})
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


async def test_shelter_open_full_closed_and_headquarters(hub: Hub) -> None:
    hub.dispatch_fast()
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    portal = await hub.org("Portal", None, [], kind="receiver")
    with Receiver() as receiver:
        endpoint = {"channel": "webhook", "url": receiver.url("/ok/portal"), "filter": {}}
        assert (
            await hub.client.post("/api/v1/endpoints", json=endpoint, headers=portal["headers"])
        ).status_code == 201

        hq = await hub.client.post(
            "/api/v1/jp/headquarters",
            headers=city["headers"],
            json={"municipality": "131016", "kind": "disaster", "state": "established"},
        )
        assert hq.status_code == 201, hq.text
        state = await _state(hub)
        assert state["headquarters"]["kind"] == "disaster"
        assert state["headquarters"]["name"] == "災害対策本部"

        opened = await hub.client.post(
            "/api/v1/jp/shelters", headers=city["headers"], json={**SHELTER, "state": "open"}
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["msgType"] == "Alert"
        listed = (await hub.client.get("/api/v1/jp/shelters", params={"code": "131016"})).json()
        assert [(s["id"], s["state"], s["capacity"]) for s in listed["shelters"]] == [
            ("kudan-es", "open", 300)
        ]
        assert listed["shelters"][0]["name"] == "九段小学校"
        assert listed["shelters"][0]["hazards"] == ["flood", "landslide"]

        full = await hub.client.post(
            "/api/v1/jp/shelters", headers=city["headers"], json={**SHELTER, "state": "full"}
        )
        assert full.status_code == 201
        first = opened.json()
        assert full.json()["msgType"] == "Update"
        assert full.json()["references"] == f"{CHIYODA},{first['identifier']},{first['sent']}"
        assert (await _state(hub))["shelters"][0]["state"] == "full"

        closed = await hub.client.post(
            "/api/v1/jp/shelters", headers=city["headers"], json={**SHELTER, "state": "closed"}
        )
        assert closed.status_code == 201
        assert closed.json()["msgType"] == "Cancel"
        assert (await _state(hub))["shelters"] == []

        dissolved = await hub.client.post(
            "/api/v1/jp/headquarters",
            headers=city["headers"],
            json={"municipality": "131016", "state": "dissolved"},
        )
        assert dissolved.status_code == 201 and dissolved.json()["msgType"] == "Cancel"
        assert (await _state(hub))["headquarters"] is None

        await until(lambda: len(receiver.for_path("/ok/portal")) >= 5)
        events = {read_alert(r.body).alert.infos[0].event for r in receiver.for_path("/ok/portal")}
        assert events == {
            "災害対策本部設置",
            "避難所開設",
            "避難所満員",
            "避難所閉鎖",
            "災害対策本部廃止",
        }
        english = read_alert(receiver.for_path("/ok/portal")[0].body).alert.infos[1]
        assert english.language == "en-US"


async def test_shelter_refusals(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    cases = [
        ({**SHELTER, "state": "closed", "id": "never-opened"}, 409),
        ({**SHELTER, "state": "open", "lat": 35.6938, "lon": 139.7034}, 403),  # 新宿駅: not ours
        ({**SHELTER, "state": "open", "lat": 95.0}, 422),
        ({**SHELTER, "state": "open", "id": "bad id!"}, 422),
        ({**SHELTER, "state": "open", "hazards": ["meteor"]}, 422),
        ({**SHELTER, "state": "maybe"}, 422),
        ({**SHELTER, "state": "open", "municipality": "131017"}, 422),  # bad check digit
        ({**SHELTER, "state": "open", "name": "九段\x00小学校"}, 422),  # XML cannot carry it
    ]
    for body, status in cases:
        response = await hub.client.post("/api/v1/jp/shelters", headers=city["headers"], json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    evacuation = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={
            "municipality": "131016",
            "level": 4,
            "hazard": "flood",
            "districts": [{"name": "\x01"}],
        },
    )
    assert evacuation.status_code == 422
    dissolve = await hub.client.post(
        "/api/v1/jp/headquarters",
        headers=city["headers"],
        json={"municipality": "131016", "state": "dissolved"},
    )
    assert dissolve.status_code == 409
