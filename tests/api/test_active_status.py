"""``GET /api/v1/alerts?active=true`` lists Actual alerts unless ``status`` says otherwise:
a nationwide test or an exercise is not an alert in force."""

from __future__ import annotations

import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"


async def _ids(hub: Hub, query: str) -> set[str]:
    response = await hub.client.get(f"/api/v1/alerts?{query}", headers=hub.admin)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_active_means_actual_unless_status_says(hub: Hub) -> None:
    issuer = await hub.org("東京都", TOKYO, ["13"])
    ids = {}
    for status in ("Actual", "Test", "Exercise"):
        response = await hub.client.post(
            "/api/v1/alerts",
            content=xml(make_alert(TOKYO, ["131016"], status=status)),
            headers={**issuer["headers"], **CAP_XML},
        )
        assert response.status_code == 201, response.text
        ids[status] = response.json()["id"]

    assert await _ids(hub, "active=true") == {ids["Actual"]}
    assert await _ids(hub, "active=true&status=Test") == {ids["Test"]}
    assert await _ids(hub, "active=true&status=Exercise") == {ids["Exercise"]}
    assert await _ids(hub, "active=false") == set()
    assert await _ids(hub, "") == set(ids.values())  # history lists every world
