"""What runs after a publish commits cannot undo the answer: the alert is stored, so the
caller gets 201 even when a listener fails; the failure is logged and later listeners run."""

from __future__ import annotations

import logging

import pytest

from alertcommons.hub.publish import Published
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

TOKYO = "metro.tokyo.jp"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.anyio
async def test_a_failing_listener_leaves_the_201(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str] = []

    def broken(published: Published) -> None:
        raise RuntimeError("listener bug")

    listeners = hub.services.publisher.listeners
    listeners.insert(0, broken)
    listeners.append(lambda published: heard.append(published.alert_id))
    issuer = await hub.org("東京都", TOKYO, ["13"])
    with caplog.at_level(logging.ERROR, logger="alertcommons.hub.publish"):
        response = await hub.client.post(
            "/api/v1/alerts",
            content=xml(make_alert(TOKYO, ["131016"])),
            headers={**issuer["headers"], **CAP_XML},
        )
    assert response.status_code == 201, response.text
    alert_id = response.json()["id"]
    assert heard == [alert_id]
    assert (await hub.client.get(f"/api/v1/alerts/{alert_id}")).status_code == 200
    assert any("listener failed" in record.getMessage() for record in caplog.records)
