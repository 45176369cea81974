"""A receiver registering a site's routes at once (a provisioning script's parallel calls) on
PostgreSQL, where the hub writes on several connections: one site, never a 500."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.hub import Hub
from tests.support.pglocks import audit_head_held, writes_meet

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


async def test_two_routes_naming_a_new_site_at_once_join_one_site(
    hub: Hub, database_url: str
) -> None:
    # Both writes looked for the site, found none and made it: the second broke the unique
    # (organization, name) and answered 500. The test holds them inside their transactions.
    rx = await hub.org("Newsroom", None, [], kind="receiver")

    async def route(order: int) -> httpx.Response:
        return await hub.client.post(
            "/api/v1/endpoints",
            json={
                "channel": "webhook",
                "url": f"http://127.0.0.1:9/route{order}",
                "site": "本社",
                "route_order": order,
            },
            headers=rx["headers"],
        )

    with audit_head_held(database_url) as (waiting, release):
        calls = [asyncio.create_task(route(order)) for order in (1, 2)]
        await writes_meet(waiting, 2, "both registrations inside their transactions")
        release()
        answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    (site,) = (await hub.client.get("/api/v1/sites", headers=rx["headers"])).json()["items"]
    assert [r["route_order"] for r in site["routes"]] == [1, 2]
