"""Words a resident reads: an order that was lifted says 解除されました; only a Cancel of a
message that was wrong says 取り消されました."""

from __future__ import annotations

import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.lg.jp"


async def test_a_lift_reads_as_lifted_and_a_withdrawal_as_cancelled(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    order = await hub.evacuate(city)
    lift = await hub.evacuate(city, action="lift")
    assert lift.json()["msgType"] == "Cancel", lift.text
    for alert_id in (order.json()["id"], lift.json()["id"]):
        page = (await hub.client.get(f"/alerts/{alert_id}")).text
        assert "この情報は解除されました。" in page
        assert "取り消されました" not in page
        english = (await hub.client.get(f"/alerts/{alert_id}?lang=en")).text
        assert "This order has been lifted." in english

    wrong = make_alert(CHIYODA, ["131016"], event="避難所開設", headline="避難所開設（誤報）")
    headers = {**city["headers"], **CAP_XML}
    first = await hub.client.post("/api/v1/alerts", content=xml(wrong), headers=headers)
    assert first.status_code == 201
    withdrawal = make_alert(
        CHIYODA,
        ["131016"],
        msg_type="Cancel",
        references=f"{CHIYODA},{wrong.identifier},{wrong.sent}",
        event="避難所開設",
        headline="誤って発表しました",
    )
    assert (
        await hub.client.post("/api/v1/alerts", content=xml(withdrawal), headers=headers)
    ).status_code == 201
    page = (await hub.client.get(f"/alerts/{first.json()['id']}")).text
    assert "この情報は取り消されました。" in page
    assert "解除されました" not in page
