"""Receiving sites through the API: endpoints name their site and order, the old shapes
still work, bad input is refused with a problem, and every change is audited."""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.store import audit
from tests.support.hub import Hub

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def _endpoint(hub: Hub, org: dict[str, Any], **body: Any) -> Any:
    return await hub.client.post(
        "/api/v1/endpoints",
        json={"channel": "webhook", "url": "http://127.0.0.1:9/alerts", **body},
        headers=org["headers"],
    )


async def _actions(hub: Hub) -> list[tuple[str, dict[str, Any]]]:
    return [(r["action"], r["detail"]) for r in await hub.services.store.read(audit.records)]


async def test_an_endpoint_without_a_site_is_as_before(hub: Hub) -> None:
    rx = await hub.org("Portal", None, [], kind="receiver")
    response = await _endpoint(hub, rx)
    assert response.status_code == 201, response.text
    shown = response.json()
    assert (shown["site"], shown["route_order"]) == (None, 0)
    assert (await hub.client.get("/api/v1/sites", headers=rx["headers"])).json() == {"items": []}


async def test_routes_of_a_site_in_order_and_audited(hub: Hub) -> None:
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    other = await hub.org("Other", None, [], kind="receiver")
    second = (await _endpoint(hub, rx, site="本社", route_order=5, label="b")).json()
    first = (await _endpoint(hub, rx, site="本社", route_order=1, label="a")).json()
    await _endpoint(hub, other, site="本社")  # another organization's site of the same name

    listed = (await hub.client.get("/api/v1/sites", headers=rx["headers"])).json()["items"]
    (site,) = listed
    assert (site["name"], site["ack_timeout_s"]) == ("本社", 30.0)
    assert [r["endpoint_id"] for r in site["routes"]] == [first["id"], second["id"]]

    response = await hub.client.put(
        "/api/v1/sites/本社", json={"ack_timeout_s": 5}, headers=rx["headers"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["ack_timeout_s"] == 5.0

    moved = await hub.client.patch(
        f"/api/v1/endpoints/{second['id']}",
        json={"site": None, "route_order": 0},
        headers=rx["headers"],
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["site"], moved.json()["route_order"]) == (None, 0)

    actions = await _actions(hub)
    assert [a for a, _ in actions].count("site.create") == 2  # one per organization
    assert ("site.update", {"name": "本社", "ack_timeout_s": 5.0}) in actions
    created = [d for a, d in actions if a == "endpoint.create" and d.get("route_order") == 1]
    assert created and created[0]["site"] == "本社"
    assert (
        "endpoint.update",
        {"changed": ["route_order", "site"], "site": None, "route_order": 0},
    ) in actions


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"site": ""}, "site"),
        ({"site": ["a"]}, "site"),
        ({"site": "x" * 101}, "site"),
        ({"site": "\u202e\u793e\u672c"}, "site"),  # a right-to-left override
        ({"site": "\u672c\u200b\u793e"}, "site"),  # a zero-width space: passes for 本社
        ({"site": "a", "label": "\u2067x"}, "label"),
        ({"site": "a", "route_order": -1}, "route_order"),
        ({"site": "a", "route_order": "1"}, "route_order"),
        ({"site": "a", "route_order": True}, "route_order"),
    ],
)
async def test_bad_routes_are_refused(hub: Hub, body: dict[str, Any], path: str) -> None:
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    before = len(await _actions(hub))
    response = await _endpoint(hub, rx, **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["path"] == path
    assert len(await _actions(hub)) == before  # nothing half-written


@pytest.mark.parametrize(
    "body", [{}, {"ack_timeout_s": 0}, {"ack_timeout_s": "30"}, {"ack_timeout_s": 30, "x": 1}]
)
async def test_bad_site_settings_are_refused(hub: Hub, body: dict[str, Any]) -> None:
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    response = await hub.client.put("/api/v1/sites/a", json=body, headers=rx["headers"])
    assert response.status_code == 422, response.text
    assert response.json()["status"] == 422


async def test_an_issuer_token_sets_no_site(hub: Hub) -> None:
    issuer = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    response = await hub.client.put(
        "/api/v1/sites/a", json={"ack_timeout_s": 5}, headers=issuer["headers"]
    )
    assert response.status_code == 403
