"""The console's preview counts whom an alert reaches with the publisher's own rule: for an
Update and a Cancel, the receivers of what it replaces are counted too, so the preview's
number is the number of deliveries publishing makes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
TOKYO = "metro.tokyo.jp"
PASSWORD = "correct horse battery staple"
CHIYODA, CHUO = "131016", "131024"


async def _console(hub: Hub, org_id: str, username: str, roles: list[str]) -> httpx.AsyncClient:
    created = await hub.client.post(
        f"/api/v1/organizations/{org_id}/users",
        json={"username": username, "display_name": username, "password": PASSWORD, "roles": roles},
        headers=hub.admin,
    )
    assert created.status_code == 201, created.text
    client = httpx.AsyncClient(transport=hub.client._transport, base_url="http://hub")
    token = await _csrf(client, "/console/login")
    signed = await client.post(
        "/console/login", data={"csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert signed.status_code == 303, signed.text
    return client


async def _csrf(client: httpx.AsyncClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get(path)).text)
    assert found
    return found.group(1)


def _count(page: httpx.Response) -> int:
    found = re.search(r'<span id="receiver-count">(\d+)</span>', page.text)
    assert found, page.text
    return int(found.group(1))


async def _deliveries(hub: Hub, alert_id: str) -> int:
    response = await hub.client.get(f"/api/v1/alerts/{alert_id}/deliveries", headers=hub.admin)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def test_preview_counts_earlier_recipients_of_an_update_and_a_cancel(hub: Hub) -> None:
    issuer = await hub.org("東京都", TOKYO, ["13"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for code in (CHIYODA, CHUO):
        body: dict[str, Any] = {
            "channel": "webhook",
            "url": f"http://127.0.0.1:9/{code}",
            "filter": {"areas": [code]},
        }
        created = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert created.status_code == 201, created.text
    first = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(TOKYO, [CHIYODA])),
        headers={**issuer["headers"], **CAP_XML},
    )
    assert first.status_code == 201 and first.json()["deliveries"] == 1, first.text

    drafter = await _console(hub, issuer["id"], "drafter", ["drafter"])
    approver = await _console(hub, issuer["id"], "approver", ["approver"])
    try:
        # An Update moved to Chuo: Chuo's endpoint by its filter, Chiyoda's as an earlier
        # recipient (a receiver that showed the order must see what replaced it).
        form = {
            "csrf_token": await _csrf(drafter, "/console/compose?template=free"),
            "template": "free",
            "areas": CHUO,
            "event": "避難指示",
            "headline_ja": "【警戒レベル4】避難指示（区域変更）",
            "replaces": first.json()["id"],
            "status": "Actual",
        }
        preview = await drafter.post("/console/compose", data={**form, "action": "preview"})
        assert preview.status_code == 200, preview.text
        published = await drafter.post(
            "/console/compose", data={**form, "action": "publish", "confirmed": "yes"}
        )
        assert published.status_code == 303, published.text
        update_id = published.headers["location"].rsplit("/", 1)[1]
        assert _count(preview) == await _deliveries(hub, update_id) == 2

        # A Cancel of the update, previewed on its draft (two-person approval), then approved.
        switched = await hub.client.patch(
            f"/api/v1/organizations/{issuer['id']}",
            json={"two_person_approval": True},
            headers=hub.admin,
        )
        assert switched.status_code == 200, switched.text
        token = await _csrf(drafter, f"/console/alerts/{update_id}")
        drafted = await drafter.post(
            f"/console/alerts/{update_id}/cancel", data={"csrf_token": token}
        )
        assert drafted.status_code == 303, drafted.text
        draft_path = drafted.headers["location"]
        draft_page = await approver.get(draft_path)
        token = await _csrf(approver, draft_path)
        approved = await approver.post(f"{draft_path}/approve", data={"csrf_token": token})
        assert approved.status_code == 303, approved.text
        cancel_id = approved.headers["location"].rsplit("/", 1)[1]
        assert _count(draft_page) == await _deliveries(hub, cancel_id) == 2
    finally:
        await drafter.aclose()
        await approver.aclose()


async def test_evacuation_preview_counts_what_publishing_delivers(hub: Hub) -> None:
    """A new order, an Update raising one district, and the lift of everything: each time
    the preview's count is the number of deliveries made. The receiver that takes only
    severe alerts is not reached by level 3, is by the level-4 Update, and then gets the
    lift as an earlier recipient although a lift is not severe."""
    city = await hub.org("東京都千代田区", "city.chiyoda.tokyo.jp", [CHIYODA])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for name, extra in (("all", {}), ("severe", {"min_severity": "Severe"})):
        body: dict[str, Any] = {
            "channel": "webhook",
            "url": f"http://127.0.0.1:9/{name}",
            "filter": {"areas": [CHIYODA], **extra},
        }
        created = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert created.status_code == 201, created.text
    officer = await _console(hub, city["id"], "officer", ["drafter", "approver"])
    try:
        token = await _csrf(officer, "/console/compose?template=evacuation")
        steps: list[tuple[dict[str, str], int, str]] = [
            ({"template": "evacuation", "level": "3", "hazard": "flood"}, 1, "なし → レベル3"),
            (
                {
                    "template": "evacuation",
                    "level": "4",
                    "hazard": "flood",
                    "district_1": "神田地区",
                },
                2,
                "神田地区: レベル3 → レベル4",
            ),
            ({"template": "lift", "lift_1": "*", "lift_2": "神田地区"}, 2, "レベル4 → 解除"),
        ]
        for fields, expected, words in steps:
            form = {"csrf_token": token, "municipality": CHIYODA, "status": "Actual", **fields}
            preview = await officer.post("/console/compose", data={**form, "action": "preview"})
            assert preview.status_code == 200, preview.text
            assert words in preview.text
            # Publishing an Actual message first shows the confirmation; nothing is sent yet.
            confirm = await officer.post("/console/compose", data={**form, "action": "publish"})
            assert confirm.status_code == 200 and 'id="confirm-button"' in confirm.text
            assert _count(confirm) == _count(preview)
            published = await officer.post(
                "/console/compose", data={**form, "action": "publish", "confirmed": "yes"}
            )
            assert published.status_code == 303, published.text
            alert_id = published.headers["location"].rsplit("/", 1)[1]
            assert _count(preview) == await _deliveries(hub, alert_id) == expected
            if fields["template"] == "evacuation" and "district_1" in fields:
                # "Update" on its board opens the form filled from what it holds.
                board = await officer.get(f"/console/alerts/{alert_id}")
                link = re.search(r'href="([^"]+)" id="update-link"', board.text)
                assert link, board.text
                update = await officer.get(link.group(1).replace("&amp;", "&"))
                assert 'value="神田地区"' in update.text
                assert '<option value="flood" selected>' in update.text
                assert re.search(r'name="level"[^>]*checked', update.text) is None  # no level
        listing = await hub.client.get("/api/v1/alerts", headers=city["headers"])
        kinds = [item["msgType"] for item in listing.json()["items"]]
        assert sorted(kinds) == ["Alert", "Cancel", "Update"]  # one each: no stray sends
    finally:
        await officer.aclose()
