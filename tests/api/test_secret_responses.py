"""An answer that shows a secret once (an endpoint's signing secret when it is registered or
rotated, an organization's token when it is made or issued) tells every cache and browser
not to keep it: ``Cache-Control: no-store``, like the console page showing the same secret."""

from __future__ import annotations

import pytest

from tests.support.hub import Hub

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_every_answer_showing_a_secret_is_no_store(hub: Hub) -> None:
    body: dict[str, object] = {
        "name": "Portal",
        "kind": "receiver",
        "sender": None,
        "jurisdiction": [],
    }
    made = await hub.client.post("/api/v1/organizations", json=body, headers=hub.admin)
    assert made.status_code == 201 and made.json()["token"]
    org = made.json()
    issued = await hub.client.post(
        f"/api/v1/organizations/{org['id']}/tokens", json={"label": "b"}, headers=hub.admin
    )
    assert issued.status_code == 201 and issued.json()["token"]
    rx = {"Authorization": f"Bearer {org['token']}"}
    created = await hub.client.post(
        "/api/v1/endpoints", json={"channel": "webhook", "url": "http://127.0.0.1:9/a"}, headers=rx
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    rotated = await hub.client.post(f"/api/v1/endpoints/{created.json()['id']}/secret", headers=rx)
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]
    for answer in (made, issued, created, rotated):
        assert answer.headers.get("cache-control") == "no-store", answer.request.url
    # an answer with the secret masked may be kept as any other
    listed = await hub.client.get("/api/v1/endpoints", headers=rx)
    assert "whsec_" in listed.text and created.json()["secret"] not in listed.text
