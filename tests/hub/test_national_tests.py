"""A nationwide test is one hub operation: started from the API or from the console, it writes
the same audit record."""

from __future__ import annotations

import re
from typing import Any

import pytest

from alertcommons.hub.bootstrap import OPERATOR_ID
from alertcommons.store import audit
from tests.support.hub import Hub

PASSWORD = "correct horse battery staple"


async def _csrf(hub: Hub, path: str) -> str:
    page = await hub.client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _sign_in_admin(hub: Hub) -> None:
    created = await hub.client.post(
        f"/api/v1/organizations/{OPERATOR_ID}/users",
        json={"username": "ops", "display_name": "ops", "password": PASSWORD, "roles": ["admin"]},
        headers=hub.admin,
    )
    assert created.status_code == 201, created.text
    token = await _csrf(hub, "/console/login")
    signed = await hub.client.post(
        "/console/login", data={"csrf_token": token, "username": "ops", "password": PASSWORD}
    )
    assert signed.status_code == 303, signed.text


async def _started(hub: Hub, alert_id: str) -> list[dict[str, Any]]:
    found = await hub.services.store.read(lambda c: audit.records(c, subject=alert_id))
    return [record for record in found if record["action"] == "national-test.start"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.anyio
async def test_the_api_and_the_console_write_the_same_audit_record(hub: Hub) -> None:
    from_api = await hub.client.post("/api/v1/jp/national-tests", headers=hub.admin)
    assert from_api.status_code == 201, from_api.text
    api_id = from_api.json()["id"]

    await _sign_in_admin(hub)
    token = await _csrf(hub, "/console/admin")
    from_console = await hub.client.post(
        "/console/admin/national-tests", data={"csrf_token": token, "confirmed": "yes"}
    )  # past the page that asks for confirmation
    assert from_console.status_code == 303, from_console.text
    console_id = from_console.headers["location"].rsplit("/", 1)[1]
    assert console_id != api_id

    by_api, by_console = await _started(hub, api_id), await _started(hub, console_id)
    assert len(by_api) == 1 and len(by_console) == 1
    assert by_api[0]["actor"].startswith(f"{OPERATOR_ID}/")  # the admin token
    assert by_console[0]["actor"].startswith(f"{OPERATOR_ID}/user:")  # the console account
    shape = ("action", "detail")
    assert {k: by_api[0][k] for k in shape} == {k: by_console[0][k] for k in shape}
