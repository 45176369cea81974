"""Two-person approval is a rule of the hub: an organization that requires it cannot publish
or cancel directly with its API token, by any API path; national warnings keep the console's
exception (J-Alert has no approval step)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"


async def _require_approval(hub: Hub, org: dict[str, Any], on: bool) -> None:
    response = await hub.client.patch(
        f"/api/v1/organizations/{org['id']}", json={"two_person_approval": on}, headers=hub.admin
    )
    assert response.status_code == 200, response.text


def _approval_problem(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/approval-required")
    assert "approval" in problem["detail"]


async def test_api_token_cannot_bypass_two_person_approval(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    before = make_alert(CHIYODA, ["131016"])
    published = await hub.client.post(
        "/api/v1/alerts", content=xml(before), headers={**city["headers"], **CAP_XML}
    )
    assert published.status_code == 201, published.text
    await _require_approval(hub, city, True)

    direct = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(CHIYODA, ["131016"])),
        headers={**city["headers"], **CAP_XML},
    )
    _approval_problem(direct)
    cancel = make_alert(CHIYODA, ["131016"], msg_type="Cancel", references=reference_to(before))
    cancelled = await hub.client.post(
        "/api/v1/alerts", content=xml(cancel), headers={**city["headers"], **CAP_XML}
    )
    _approval_problem(cancelled)
    evacuation = await hub.client.post(
        "/api/v1/jp/evacuation",
        json={"municipality": "13101", "level": 4, "hazard": "heavy_rain"},
        headers=city["headers"],
    )
    _approval_problem(evacuation)
    state = await hub.client.get("/api/v1/alerts", headers=city["headers"])
    assert state.status_code == 200
    assert [item["id"] for item in state.json()["items"]] == [published.json()["id"]]

    await _require_approval(hub, city, False)  # switched off: direct again
    again = await hub.client.post(
        "/api/v1/alerts", content=xml(cancel), headers={**city["headers"], **CAP_XML}
    )
    assert again.status_code == 201, again.text


async def test_national_warnings_keep_their_exception(hub: Hub) -> None:
    cas = await hub.org("内閣官房", "cas.go.jp", ["*"])
    await _require_approval(hub, cas, True)
    warning = await hub.client.post(
        "/api/v1/jp/national-warnings",
        headers=cas["headers"],
        json={"kind": "missile", "areas": ["04"]},
    )
    assert warning.status_code == 201, warning.text
    # Anything else from the same organization waits for approval.
    other = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert("cas.go.jp", ["04"])),
        headers={**cas["headers"], **CAP_XML},
    )
    _approval_problem(other)
