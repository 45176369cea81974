"""Every time of an alert is answered in the offset its issuer wrote (Japan: +09:00).

The evacuation state gave ``since`` as +09:00 beside ``expires`` as +00:00; alert records
gave ``sent`` as written and ``effective``/``expires``/``received_at`` in UTC.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
JAPAN = "+09:00"
TIME_FIELDS = ("sent", "effective", "expires", "received_at")


def _offsets(record: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for name in names:
        value = record[name]
        assert isinstance(value, str), (name, value)
        datetime.fromisoformat(value)  # a real ISO 8601 time
        match = re.search(r"[+-]\d\d:\d\d$", value)
        assert match, (name, value)
        found[name] = match.group(0)
    return found


async def test_japanese_alert_times_are_all_in_plus_nine(hub: Hub) -> None:
    city = await hub.chiyoda()
    issued = await hub.evacuate(city)
    alert_id = issued.json()["id"]

    state = (await hub.client.get("/api/v1/jp/evacuation", params={"code": "131016"})).json()
    assert _offsets(state, ("since", "expires")) == {"since": JAPAN, "expires": JAPAN}

    record = (await hub.client.get(f"/api/v1/alerts/{alert_id}")).json()
    assert set(_offsets(record, TIME_FIELDS).values()) == {JAPAN}
    listed = (await hub.client.get("/api/v1/alerts", params={"active": "true"})).json()
    (item,) = [item for item in listed["items"] if item["id"] == alert_id]
    assert set(_offsets(item, TIME_FIELDS).values()) == {JAPAN}
    # the same moments: only the offset in which they are written changed
    assert datetime.fromisoformat(record["expires"]) > datetime.fromisoformat(record["sent"])


def _times(answer: Any) -> list[str]:
    """Every ISO 8601 time anywhere in a JSON answer."""
    if isinstance(answer, dict):
        return [t for value in answer.values() for t in _times(value)]
    if isinstance(answer, list):
        return [t for value in answer for t in _times(value)]
    if isinstance(answer, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", answer):
        return [answer]
    return []


async def test_delivery_reports_acks_and_shelters_too(hub: Hub) -> None:
    """The delivery board and an acknowledgement gave delivered_at/acknowledged_at in UTC
    beside the alert's +09:00 times."""
    hub.dispatch_fast()
    city = await hub.chiyoda()
    tv = await hub.org("テレビ局", None, [], kind="receiver")
    with Receiver() as receiver:
        endpoint = await hub.client.post(
            "/api/v1/endpoints",
            headers=tv["headers"],
            json={"channel": "webhook", "url": receiver.url("/ok/tv"), "filter": {"areas": ["13"]}},
        )
        assert endpoint.status_code == 201, endpoint.text
        issued = await hub.evacuate(city)
        alert_id = issued.json()["id"]
        board = f"/api/v1/alerts/{alert_id}/deliveries"

        async def delivered() -> bool:
            report = (await hub.client.get(board, headers=city["headers"])).json()
            return bool(report["delivered"])

        await until(delivered, what="the delivery was not made")
        (received,) = receiver.for_path("/ok/tv")
    delivery_id = {k.lower(): v for k, v in received.headers.items()}["x-alert-commons-delivery"]
    ack = await hub.client.post(f"/api/v1/deliveries/{delivery_id}/ack", headers=tv["headers"])
    assert ack.status_code == 200, ack.text
    shelter = await hub.client.post(
        "/api/v1/jp/shelters",
        headers=city["headers"],
        json={
            "municipality": "131016",
            "id": "kudan-es",
            "name": "九段小学校",
            "address": "東京都千代田区三番町16",
            "lat": 35.6905,
            "lon": 139.744,
            "capacity": 300,
            "hazards": ["flood"],
            "state": "open",
        },
    )
    assert shelter.status_code == 201, shelter.text
    answers = {
        "board": (await hub.client.get(board, headers=city["headers"])).json(),
        "ack": ack.json(),
        "shelters": (await hub.client.get("/api/v1/jp/shelters", params={"code": "131016"})).json(),
        "evacuation": (
            await hub.client.get("/api/v1/jp/evacuation", params={"code": "131016"})
        ).json(),
        "alert": (await hub.client.get(f"/api/v1/alerts/{alert_id}")).json(),
    }
    times = {name: _times(answer) for name, answer in answers.items()}
    assert times["board"] and times["ack"] and times["shelters"], times
    wrong = {name: [t for t in found if not t.endswith(JAPAN)] for name, found in times.items()}
    assert wrong == {name: [] for name in answers}, wrong
