"""Restricted records are never referenced from public ones: a Restricted Cancel of a public
alert does not make the public page say "cancelled", does not link to it, and its id appears
nowhere in what the public API says about the public alert. The issuer still sees its own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.tokyo.jp"


async def test_restricted_cancel_of_a_public_alert_leaks_nothing(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**city["headers"], **CAP_XML}
    public = make_alert(CHIYODA, ["131016"])
    first = await hub.client.post("/api/v1/alerts", content=xml(public), headers=headers)
    assert first.status_code == 201, first.text
    public_id = first.json()["id"]
    cancel = replace(
        make_alert(CHIYODA, ["131016"], msg_type="Cancel", references=reference_to(public)),
        scope="Restricted",
        restriction="防災関係機関のみ",
    )
    second = await hub.client.post("/api/v1/alerts", content=xml(cancel), headers=headers)
    assert second.status_code == 201, second.text
    restricted_id = second.json()["id"]

    anonymous = (await hub.client.get(f"/api/v1/alerts/{public_id}")).json()
    assert anonymous["superseded_by"] is None and anonymous["referenced_by"] == []
    assert anonymous["active"] is True  # the public never got a cancel: theirs stands
    listed = (await hub.client.get("/api/v1/alerts", params={"active": "true"})).json()
    assert restricted_id not in str(listed) and public_id in str(listed)
    page = await hub.client.get(f"/alerts/{public_id}")
    assert page.status_code == 200
    assert restricted_id not in page.text
    assert 'class="banner cancelled"' not in page.text
    assert (await hub.client.get(f"/alerts/{restricted_id}")).status_code == 404
    index = await hub.client.get("/")
    assert f"/alerts/{public_id}" in index.text

    # The issuer sees its own restricted message and what it refers to.
    own = (await hub.client.get(f"/api/v1/alerts/{public_id}", headers=city["headers"])).json()
    assert own["referenced_by"] == [restricted_id]
    mine = (await hub.client.get(f"/api/v1/alerts/{restricted_id}", headers=city["headers"])).json()
    assert mine["references"] == [public_id]


async def test_a_public_update_names_no_restricted_alert(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**city["headers"], **CAP_XML}
    restricted = replace(make_alert(CHIYODA, ["131016"]), scope="Restricted", restriction="内部")
    first = await hub.client.post("/api/v1/alerts", content=xml(restricted), headers=headers)
    update = make_alert(CHIYODA, ["131016"], msg_type="Update", references=reference_to(restricted))
    second = await hub.client.post("/api/v1/alerts", content=xml(update), headers=headers)
    assert second.status_code == 201, second.text
    record = (await hub.client.get(f"/api/v1/alerts/{second.json()['id']}")).json()
    assert record["references"] == []
    page = await hub.client.get(f"/alerts/{second.json()['id']}")
    assert first.json()["id"] not in page.text
