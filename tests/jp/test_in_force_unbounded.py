"""What is in force has no page limit: an evacuation order stays in force, liftable and on the
public index however many newer alerts follow it."""

from __future__ import annotations

import pytest

from alertcommons.store import alerts as alert_queries
from tests.support.alerts import make_alert, stored_rows
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.tokyo.jp"
NEWER = 3_000


async def test_order_in_force_survives_thousands_of_newer_alerts(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    noise = await hub.org("Noise", "noise.example", ["13"])
    order = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "13101", "level": 4, "hazard": "heavy_rain"},
    )
    assert order.status_code == 201, order.text
    noisy = make_alert("noise.example", ["131016"], headline="【お知らせ】訓練ではありません")
    batch = stored_rows(noisy, noise["id"], NEWER, "13101")
    await hub.services.store.write(lambda c: alert_queries.insert_alerts(c, batch))
    hub.services.rendered.changed()  # the public pages' cache: alerts were stored directly

    state = (await hub.client.get("/api/v1/jp/evacuation", params={"code": "131016"})).json()
    assert state["in_force"] is True and state["alert_id"] == order.json()["id"]
    index = await hub.client.get("/")
    assert index.status_code == 200
    assert f"/alerts/{order.json()['id']}" in index.text
    lifted = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "13101", "action": "lift"},
    )
    assert lifted.status_code == 201, lifted.text
    assert order.json()["identifier"] in lifted.json()["references"]
    state = (await hub.client.get("/api/v1/jp/evacuation", params={"code": "131016"})).json()
    assert state["in_force"] is False
