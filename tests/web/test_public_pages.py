"""Public pages served by the hub: what a resident sees, in Japanese and English, and an
honest verification panel (a tampered message is shown as not verified)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from alertcommons.cap.values import format_datetime
from alertcommons.store.schema import alerts
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.browser import Shots
from tests.support.hub import Hub
from tests.support.server import HubProcess
from tests.web.conftest import ADMIN, CHIYODA

POLYGON = "35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750"


async def _publish(hub: Hub, issuer: dict[str, Any], alert: Any) -> str:
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**issuer["headers"], **CAP_XML}
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


@pytest.mark.anyio
async def test_index_alert_page_languages_and_history(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    first = make_alert(CHIYODA, ["131016"], headline="【警戒レベル4】避難指示 神田地区")
    alert_id = await _publish(hub, city, first)
    index = await hub.client.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "東京都" in index.text and "【警戒レベル4】避難指示 神田地区" in index.text
    assert '<h4 class="town">東京都千代田区</h4>' in index.text  # by prefecture, then town
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert index.headers["cache-control"] == "public, max-age=0, s-maxage=10"
    again = await hub.client.get("/", headers={"If-None-Match": index.headers["etag"]})
    assert again.status_code == 304  # a reload costs nothing while nothing changed

    page = await hub.client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    assert 'data-signature="valid"' in page.text
    assert "東京都千代田区" in page.text and f"/alerts/{alert_id}" in page.text
    assert "<svg" in page.text  # the QR code, drawn on the server
    english = await hub.client.get(f"/alerts/{alert_id}?lang=en")
    assert 'lang="en"' in english.text and "Is this message real?" in english.text

    update_alert = make_alert(
        CHIYODA,
        ["131016"],
        msg_type="Update",
        references=f"{CHIYODA},{first.identifier},{first.sent}",
    )
    update_id = await _publish(hub, city, update_alert)
    old = (await hub.client.get(f"/alerts/{alert_id}")).text
    assert "この情報は更新されています" in old and f"/alerts/{update_id}" in old
    now = (await hub.client.get("/")).text
    assert f"/alerts/{update_id}" in now and f"/alerts/{alert_id}?" not in now


@pytest.mark.anyio
async def test_missing_restricted_and_tampered(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    assert (await hub.client.get("/alerts/01NOSUCHALERT")).status_code == 404
    restricted = make_alert(CHIYODA, ["131016"])
    restricted.scope = "Restricted"
    restricted.restriction = "防災関係機関のみ"
    hidden = await _publish(hub, city, restricted)
    response = await hub.client.get(f"/alerts/{hidden}")
    assert response.status_code == 404 and "防災関係機関のみ" not in response.text

    shown = await _publish(hub, city, make_alert(CHIYODA, ["131016"], polygon=POLYGON))

    def tamper(connection: Any) -> None:
        row = connection.execute(alerts.select().where(alerts.c.id == shown)).first()
        forged = row.cap_xml.replace("避難指示".encode(), "避難解除".encode())
        connection.execute(update(alerts).where(alerts.c.id == shown).values(cap_xml=forged))

    await hub.services.store.write(tamper)
    page = await hub.client.get(f"/alerts/{shown}")
    assert 'data-signature="invalid"' in page.text
    assert "この情報を信用しないでください" in page.text


def test_map_shows_outline_when_tiles_cannot_load(
    browser: Any, tmp_path: Path, shots: Shots
) -> None:
    hub = HubProcess(
        tmp_path / "data",
        ADMIN,
        env={
            # A tile server that is down: the outline must still show.
            "ALERTCOMMONS_MAP_TILES_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
            "ALERTCOMMONS_MAP_TILES_ATTRIBUTION": "<b>tiles</b> © example",
        },
    )
    hub.start()
    try:
        city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
        response = httpx.post(
            f"{hub.url}/api/v1/alerts",
            content=xml(make_alert(CHIYODA, ["131016"], polygon=POLYGON)),
            headers={"Authorization": f"Bearer {city['token']}", **CAP_XML},
        )
        assert response.status_code == 201
        page = browser.new_page()
        page.goto(f"{hub.url}/alerts/{response.json()['id']}")
        page.wait_for_selector("#alert-map path.leaflet-interactive")
        assert page.locator("#alert-map .leaflet-tile").count() > 0  # it tried the tiles
        attribution = page.locator("#alert-map .leaflet-control-attribution").inner_text()
        assert "<b>tiles</b>" in attribution  # shown as text, not markup
        shots.take(page, "outline-without-tiles")
        page.close()
    finally:
        hub.stop()


def test_alerts_signed_before_a_key_change_still_verify(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hub = HubProcess(data, ADMIN)
    hub.start()
    try:
        city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
        headers = {"Authorization": f"Bearer {city['token']}", **CAP_XML}
        before = httpx.post(
            f"{hub.url}/api/v1/alerts",
            content=xml(make_alert(CHIYODA, ["131016"])),
            headers=headers,
        )
        assert before.status_code == 201
        old_key = httpx.get(f"{hub.url}/api/v1/keys").json()["keys"][0]["id"]
        hub.stop()
        # The operator replaces the signing key (deleting the key files no longer does:
        # the database holds the cluster's key, and rotation is a command).
        rotated = subprocess.run(
            [sys.executable, "-m", "alertcommons", "keys", "rotate", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rotated.returncode == 0, rotated.stderr
        hub.start()
        keys = httpx.get(f"{hub.url}/api/v1/keys").json()["keys"]
        assert [k["current"] for k in keys] == [True, False] and keys[1]["id"] == old_key
        page = httpx.get(f"{hub.url}/alerts/{before.json()['id']}").text
        assert 'data-signature="valid"' in page
    finally:
        hub.stop()


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_real_cap_from_other_services_renders(hub: Hub, cap_dir: Path) -> None:
    """Alerts as other services write them (Canada, the US, Australia; several languages,
    circles, no Japanese info) show on the public pages with their signature checked."""
    from alertcommons.auth.jurisdiction import Jurisdiction
    from alertcommons.auth.principal import Principal
    from alertcommons.store import orgs

    shown = 0
    for name, parsed in _valid_cap_12(cap_dir):
        alert = parsed.alert
        alert.scope = "Public"
        if alert.msg_type != "Alert":  # what it updates is not on this hub
            alert.msg_type, alert.references = "Alert", None
        # The samples are years old; the hub admits only fresh alerts, so they are re-timed
        # to now (what they look like on the pages does not depend on the date).
        alert.sent = format_datetime(datetime.now(UTC).replace(microsecond=0))
        for info in alert.infos:
            info.effective = info.onset = info.expires = None
        org_id = await hub.services.store.write(
            lambda c, a=alert: (  # type: ignore[misc]
                orgs.org_by_sender(c, a.sender).id
                if orgs.org_by_sender(c, a.sender)
                else orgs.create_org(
                    c, name=a.sender, kind="issuer", sender=a.sender, jurisdiction=["*"]
                )
            )
        )
        issuer = Principal(
            org_id,
            alert.sender or "",
            "t",
            frozenset({"issuer"}),
            alert.sender,
            Jurisdiction(frozenset({"*"})),
        )
        published = await hub.services.publisher.publish(issuer, alert)
        for lang in ("ja", "en"):
            page = await hub.client.get(f"/alerts/{published.alert_id}?lang={lang}")
            assert page.status_code == 200, (name, page.text[:300])
            assert 'data-signature="valid"' in page.text, name
        shown += 1
    assert shown >= 4
    index = await hub.client.get("/?lang=en")
    assert index.status_code == 200


def _valid_cap_12(folder: Path) -> list[tuple[str, Any]]:
    from alertcommons.cap import read_alert, validate
    from alertcommons.errors import AlertCommonsError

    found = []
    for path in sorted(folder.glob("*.cap")):
        try:
            parsed = read_alert(path.read_bytes())
        except AlertCommonsError:
            continue  # hostile and broken samples are other tests' business
        if validate(parsed).valid and parsed.version == "1.2":
            found.append((path.name, parsed))
    return found
