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
    city = await hub.org("東京都千代田区", "city.chiyoda.tokyo.jp", ["131016"])
    issued = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "level": 4, "hazard": "flood"},
    )
    assert issued.status_code == 201, issued.text
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
