"""Cancel drafts under two-person approval: the approver previews what will be cancelled, and
a second cancel of an alert already cancelled is refused at approval, clearly."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"
PASSWORD = "correct horse battery staple"


async def _user(hub: Hub, org: dict[str, Any], username: str, roles: list[str]) -> None:
    response = await hub.client.post(
        f"/api/v1/organizations/{org['id']}/users",
        json={"username": username, "display_name": username, "password": PASSWORD,
              "roles": roles},
        headers=hub.admin,
    )  # fmt: skip
    assert response.status_code == 201, response.text


def _token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


async def _sign_in(hub: Hub, username: str) -> str:
    """Sign in (ending the browser's previous session); the new session's CSRF token."""
    token = _token(await hub.client.get("/console/login"))
    signed = await hub.client.post(
        "/console/login", data={"csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert signed.status_code == 303, signed.text
    return _token(await hub.client.get("/console/compose"))


async def test_cancel_drafts_are_previewed_and_rechecked(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    original = make_alert(CHIYODA, ["131016"], headline="【警戒レベル4】避難指示 神田地区")
    published = await hub.client.post(
        "/api/v1/alerts", content=xml(original), headers={**city["headers"], **CAP_XML}
    )
    assert published.status_code == 201, published.text
    alert_id = published.json()["id"]
    switched = await hub.client.patch(
        f"/api/v1/organizations/{city['id']}", json={"two_person_approval": True}, headers=hub.admin
    )
    assert switched.status_code == 200
    await _user(hub, city, "drafter", ["drafter"])
    await _user(hub, city, "approver", ["drafter", "approver"])

    csrf = await _sign_in(hub, "drafter")
    drafts = []
    for _ in range(2):  # two cancel drafts of the same alert, both made while it is in force
        made = await hub.client.post(
            f"/console/alerts/{alert_id}/cancel", data={"csrf_token": csrf}
        )
        assert made.status_code == 303, made.text
        assert made.headers["location"].startswith("/console/drafts/")
        drafts.append(made.headers["location"])

    csrf = await _sign_in(hub, "approver")
    page = await hub.client.get(drafts[0])
    assert page.status_code == 200
    assert "no template" not in page.text
    assert 'id="preview"' in page.text
    assert "【取り消し】【警戒レベル4】避難指示 神田地区" in page.text  # what will be cancelled
    assert "&lt;msgType&gt;Cancel&lt;/msgType&gt;" in page.text
    approved = await hub.client.post(f"{drafts[0]}/approve", data={"csrf_token": csrf})
    assert approved.status_code == 303, approved.text

    second = await hub.client.get(drafts[1])
    assert second.status_code == 200
    assert "取り消せません" in second.text and 'id="preview"' not in second.text
    refused = await hub.client.post(f"{drafts[1]}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 409, refused.text
    # the refusal in the page's language (Japanese unless the officer chose English)
    assert "取り消せません" in refused.text and "差し戻してください" in refused.text

    listing = await hub.client.get("/api/v1/alerts", headers=city["headers"])
    kinds = sorted(item["msgType"] for item in listing.json()["items"])
    assert kinds == ["Alert", "Cancel"], listing.json()
