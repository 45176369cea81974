"""The console's delivery board shows a site's routes: which route each delivery is, the
standby route not sent yet, and never the receiver's own name for its site."""

from __future__ import annotations

import re

import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until
from tests.web.test_cancel_drafts import _sign_in, _user

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
CHIYODA = "city.chiyoda.tokyo.jp"


async def test_board_shows_each_route_of_a_site(hub: Hub, receiver: Receiver) -> None:
    hub.dispatch_fast()
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    for order, path in enumerate(("/ok/primary", "/ok/backup")):
        body = {"channel": "webhook", "url": receiver.url(path), "site": "本社報道部",
                "route_order": order}  # fmt: skip
        made = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert made.status_code == 201, made.text
    published = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(CHIYODA, ["131016"])),
        headers={**city["headers"], **CAP_XML},
    )
    assert published.status_code == 201, published.text
    alert_id = published.json()["id"]
    await until(lambda: receiver.count() == 1)

    await _user(hub, city, "officer", ["drafter"])
    await _sign_in(hub, "officer")

    async def page() -> str:
        return (await hub.client.get(f"/console/alerts/{alert_id}")).text

    async def delivered() -> bool:
        return ">配信済<" in await page()

    await until(delivered)
    html = await page()
    rows = re.findall(r"<tr data-delivery=.*?</tr>", html)
    assert len(rows) == 2
    assert "経路 1" in rows[0] + rows[1] and "経路 2" in rows[0] + rows[1]
    (backup,) = [r for r in rows if "経路 2" in r]
    assert ">待機<" in backup  # not sent: the first route has 30 s to be acknowledged
    assert "本社報道部" not in html  # the receiver's name for its site is its own
