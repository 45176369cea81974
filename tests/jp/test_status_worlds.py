"""Status separates worlds: a drill (Exercise) or a test never updates, replaces or hides the
real (Actual) evacuation order, in the state API, the public pages or the store."""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.cap import read_alert
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.tokyo.jp"


async def _state(hub: Hub, path: str = "evacuation", **params: str) -> dict[str, Any]:
    response = await hub.client.get(f"/api/v1/jp/{path}", params={"code": "131016", **params})
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def test_exercise_never_replaces_the_actual_order(hub: Hub, receiver: Receiver) -> None:
    hub.dispatch_fast()
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    tv = await hub.org("Broadcaster", None, [], kind="receiver")
    for path, statuses in (("/ok/real", ["Actual"]), ("/ok/drills", ["Exercise"])):
        endpoint = {
            "channel": "webhook",
            "url": receiver.url(path),
            "filter": {"areas": ["13"], "statuses": statuses},
        }
        created = await hub.client.post("/api/v1/endpoints", json=endpoint, headers=tv["headers"])
        assert created.status_code == 201, created.text

    real = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "13101", "level": 4, "hazard": "heavy_rain"},
    )
    assert real.status_code == 201, real.text
    actual = real.json()

    drill = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "13101", "level": 5, "hazard": "heavy_rain", "status": "Exercise"},
    )
    assert drill.status_code == 201, drill.text
    exercise = drill.json()
    # A new alert of its own world, not an Update of the real order.
    assert exercise["msgType"] == "Alert" and exercise["references"] is None
    assert exercise["deliveries"] == 1  # the endpoint that takes drills

    await until(lambda: receiver.for_path("/ok/drills") and receiver.for_path("/ok/real"))
    got = read_alert(receiver.for_path("/ok/drills")[0].body).alert
    assert got.status == "Exercise" and got.msg_type == "Alert"
    assert [read_alert(r.body).alert.status for r in receiver.for_path("/ok/real")] == ["Actual"]

    # The state API says whose state it reports; the real order is still in force.
    state = await _state(hub)
    assert state["status"] == "Actual" and state["in_force"] is True
    assert (state["level"], state["alert_id"]) == (4, actual["id"])
    drill_state = await _state(hub, status="Exercise")
    assert drill_state["status"] == "Exercise"
    assert (drill_state["level"], drill_state["alert_id"]) == (5, exercise["id"])
    assert (await _state(hub, status="Test"))["in_force"] is False
    record = (await hub.client.get(f"/api/v1/alerts/{actual['id']}")).json()
    assert record["active"] is True and record["superseded_by"] is None
    index = await hub.client.get("/")
    assert f"/alerts/{actual['id']}" in index.text
    assert f"/alerts/{exercise['id']}" not in index.text  # the public index shows real alerts

    # Lifting the drill cancels the drill only.
    lifted = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "13101", "action": "lift", "status": "Exercise"},
    )
    assert lifted.status_code == 201, lifted.text
    assert exercise["identifier"] in lifted.json()["references"]
    assert (await _state(hub, status="Exercise"))["in_force"] is False
    assert (await _state(hub))["level"] == 4


async def test_shelters_and_headquarters_per_status(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    shelter = {
        "municipality": "13101",
        "id": "kanda-school",
        "name": "神田小学校",
        "address": "千代田区神田",
        "lat": 35.69,
        "lon": 139.76,
    }
    for state, status in (("open", "Actual"), ("closed", "Exercise")):
        response = await hub.client.post(
            "/api/v1/jp/shelters",
            headers=city["headers"],
            json={**shelter, "state": state, "status": status},
        )
        # Closing a drill shelter that was never opened in the drill: nothing to close.
        assert response.status_code == (201 if status == "Actual" else 409), response.text
    hq = {"municipality": "13101", "kind": "disaster", "state": "established"}
    first = await hub.client.post("/api/v1/jp/headquarters", headers=city["headers"], json=hq)
    drill = await hub.client.post(
        "/api/v1/jp/headquarters", headers=city["headers"], json={**hq, "status": "Exercise"}
    )
    assert drill.json()["msgType"] == "Alert", drill.text  # not an Update of the real one
    shelters = await _state(hub, "shelters")
    assert shelters["status"] == "Actual" and [s["id"] for s in shelters["shelters"]] == [
        "kanda-school"
    ]
    assert (await _state(hub, "shelters", status="Exercise"))["shelters"] == []
    assert (await _state(hub))["headquarters"]["alert_id"] == first.json()["id"]
    drill_hq = (await _state(hub, status="Exercise"))["headquarters"]
    assert drill_hq["alert_id"] == drill.json()["id"]


async def test_a_cap_exercise_update_does_not_supersede_the_real_alert(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**city["headers"], **CAP_XML}
    original = make_alert(CHIYODA, ["131016"])
    first = (await hub.client.post("/api/v1/alerts", content=xml(original), headers=headers)).json()
    for msg_type in ("Update", "Cancel"):
        other = make_alert(
            CHIYODA,
            ["131016"],
            status="Exercise",
            msg_type=msg_type,
            references=reference_to(original),
        )
        response = await hub.client.post("/api/v1/alerts", content=xml(other), headers=headers)
        assert response.status_code == 201, response.text
    record = (await hub.client.get(f"/api/v1/alerts/{first['id']}")).json()
    assert record["active"] is True and record["superseded_by"] is None
