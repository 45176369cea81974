"""A municipality issues level 4 for two districts, raises it to level 5, then lifts it:
receivers get the chain with correct references, and the state query follows."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from alertcommons.cap import read_alert
from alertcommons.cap.model import Alert
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.tokyo.jp"


async def _state(hub: Hub) -> dict[str, Any]:
    response = await hub.client.get("/api/v1/jp/evacuation", params={"code": "131016"})
    assert response.status_code == 200
    state: dict[str, Any] = response.json()
    return state


async def test_level_4_then_5_then_lifted(hub: Hub, receiver: Receiver) -> None:
    hub.dispatch_fast()
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    endpoint = {"channel": "webhook", "url": receiver.url("/ok/tv"), "filter": {"areas": ["13"]}}
    assert (
        await hub.client.post("/api/v1/endpoints", json=endpoint, headers=tv["headers"])
    ).status_code == 201
    assert (await _state(hub))["in_force"] is False

    districts = [
        {
            "name": "神田地区",
            "polygon": "35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750",
        },
        {"name": "番町地区"},
    ]
    level4 = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "level": 4, "hazard": "flood", "districts": districts},
    )
    assert level4.status_code == 201, level4.text
    first = level4.json()
    assert first["msgType"] == "Alert" and first["deliveries"] == 1
    state = await _state(hub)
    assert (state["level"], state["label"], state["hazard"]) == (4, "避難指示", "flood")
    assert state["districts"] == ["東京都千代田区 神田地区", "東京都千代田区 番町地区"]

    level5 = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "level": 5, "hazard": "flood", "districts": districts},
    )
    second = level5.json()
    assert second["msgType"] == "Update"
    assert second["references"] == f"{CHIYODA},{first['identifier']},{first['sent']}"
    assert (await _state(hub))["level"] == 5

    lifted = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "action": "lift", "districts": districts},
    )
    third = lifted.json()
    assert third["msgType"] == "Cancel"
    assert third["references"] == f"{CHIYODA},{second['identifier']},{second['sent']}"
    assert (await _state(hub))["in_force"] is False
    again = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "action": "lift"},
    )
    assert again.status_code == 409

    await until(lambda: len(receiver.for_path("/ok/tv")) >= 3)
    # Arrival order is not guaranteed (a level-5 update outranks a pending level-4 alert);
    # receivers order the chain by its references.
    received = {
        a.msg_type: a for a in (read_alert(r.body).alert for r in receiver.for_path("/ok/tv"))
    }
    assert sorted(str(kind) for kind in received) == ["Alert", "Cancel", "Update"]
    got = [received["Alert"], received["Update"], received["Cancel"]]
    assert got[0].infos[0].headline.startswith("【警戒レベル4】避難指示（洪水）")  # type: ignore[union-attr]
    assert got[0].infos[1].language == "en-US"
    assert got[1].infos[0].event == "緊急安全確保" and got[1].infos[0].severity == "Extreme"
    assert got[2].infos[0].response_types == ["AllClear"]
    assert got[1].references and first["identifier"] in got[1].references
    signed = etree.fromstring(receiver.for_path("/ok/tv")[-1].body)
    assert signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


async def test_refusals(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    cases = [
        ({"municipality": "131041", "level": 4, "hazard": "flood"}, 403),  # 新宿区: not theirs
        ({"municipality": "13", "level": 4, "hazard": "flood"}, 422),
        ({"municipality": "131017", "level": 4, "hazard": "flood"}, 422),
        ({"municipality": "131016", "level": 6, "hazard": "flood"}, 422),
        ({"municipality": "131016", "level": 4, "hazard": "meteor"}, 422),
        ({"municipality": "131016"}, 422),
        (
            {
                "municipality": "131016",
                "level": 4,
                "hazard": "flood",
                "districts": [{"name": "x", "polygon": "1,1 2,2"}],
            },
            422,
        ),
    ]
    for body, status in cases:
        response = await hub.client.post(
            "/api/v1/jp/evacuation", json=body, headers=city["headers"]
        )
        assert response.status_code == status, (body, response.text)


async def _evacuation(hub: Hub, city: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", **body},
    )
    assert response.status_code == 201, response.text
    published: dict[str, Any] = response.json()
    return published


def _orders(state: dict[str, Any]) -> list[tuple[str | None, int, int]]:
    return [(o["district"], o["level"], o["effective_level"]) for o in state["orders"]]


async def test_a_municipality_holds_many_orders_at_once(hub: Hub, receiver: Receiver) -> None:
    """Level 3 for the whole ward, then level 4 for one district: both stand, in one CAP
    message with an info per level; lifting the district leaves the ward's order; lifting
    everything leaves nothing; a drill never touches the real orders."""
    hub.dispatch_fast()
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    endpoint = {"channel": "webhook", "url": receiver.url("/ok/tv"), "filter": {"areas": ["13"]}}
    assert (
        await hub.client.post("/api/v1/endpoints", json=endpoint, headers=tv["headers"])
    ).status_code == 201

    ward = await _evacuation(hub, city, level=3, hazard="flood")
    assert ward["msgType"] == "Alert"
    kanda = await _evacuation(hub, city, level=4, hazard="flood", districts=[{"name": "神田地区"}])
    assert kanda["msgType"] == "Update" and kanda["level"] == 4
    assert kanda["references"] == f"{CHIYODA},{ward['identifier']},{ward['sent']}"
    state = await _state(hub)
    assert (state["in_force"], state["level"], state["label"]) == (True, 4, "避難指示")
    assert _orders(state) == [("神田地区", 4, 4), (None, 3, 3)]
    assert all(o["alert_id"] == kanda["id"] and o["hazard"] == "flood" for o in state["orders"])
    assert state["orders"][1]["since"] == ward["sent"]  # the ward's order stood all along
    assert state["orders"][0]["label"] == "避難指示"

    # A drill is its own world: it neither sees nor changes the real orders.
    drill = await _evacuation(hub, city, level=5, hazard="flood", status="Exercise")
    assert drill["msgType"] == "Alert" and drill["references"] is None
    assert _orders(await _state(hub)) == [("神田地区", 4, 4), (None, 3, 3)]

    def received() -> list[Alert]:
        return [read_alert(r.body).alert for r in receiver.for_path("/ok/tv")]

    await until(lambda: any(a.identifier == kanda["identifier"] for a in received()))
    last = next(a for a in received() if a.identifier == kanda["identifier"])
    assert last.msg_type == "Update" and last.status == "Actual"
    japanese = [i for i in last.infos if i.language == "ja-JP"]
    assert [(i.event_codes[0].value, [a.area_desc for a in i.areas]) for i in japanese] == [
        ("4", ["東京都千代田区 神田地区"]),
        ("3", ["東京都千代田区"]),
    ]
    assert all(a.geocodes[0].value == "131016" for i in japanese for a in i.areas)

    lifted = await _evacuation(hub, city, action="lift", districts=[{"name": "神田地区"}])
    assert lifted["msgType"] == "Update" and lifted["level"] == 3
    state = await _state(hub)
    assert (state["level"], _orders(state)) == (3, [(None, 3, 3)])

    # A district inside a ward-wide order stands at the higher level.
    await _evacuation(hub, city, level=4, hazard="flood")
    await _evacuation(hub, city, level=3, hazard="flood", districts=[{"name": "番町地区"}])
    assert _orders(await _state(hub)) == [(None, 4, 4), ("番町地区", 3, 4)]

    missing = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "action": "lift", "districts": [{"name": "神田地区"}]},
    )
    assert missing.status_code == 409, missing.text

    everything = await _evacuation(hub, city, action="lift")
    assert everything["msgType"] == "Cancel" and everything["level"] is None
    state = await _state(hub)
    assert (state["in_force"], state["orders"]) == (False, [])

    exercise = await hub.client.get(
        "/api/v1/jp/evacuation", params={"code": "131016", "status": "Exercise"}
    )
    assert _orders(exercise.json()) == [(None, 5, 5)]
