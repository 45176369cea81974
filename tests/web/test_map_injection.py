"""An issuer's headline on the public map is text, never markup: checked in chromium against a
hub process, with Leaflet loaded (a string tooltip would be parsed as HTML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.browser import Shots
from tests.support.server import HubProcess
from tests.web.conftest import ADMIN, CHIYODA

POLYGON = "35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750"
HOSTILE = '<a href="https://evil.example/phish">x</a><img src=x>'


def test_headline_in_map_tooltip_is_text(browser: Any, tmp_path: Path, shots: Shots) -> None:
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    try:
        city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
        response = httpx.post(
            f"{hub.url}/api/v1/alerts",
            content=xml(make_alert(CHIYODA, ["131016"], polygon=POLYGON, headline=HOSTILE)),
            headers={"Authorization": f"Bearer {city['token']}", **CAP_XML},
        )
        assert response.status_code == 201, response.text
        alert_id = response.json()["id"]
        for path in ("/", f"/alerts/{alert_id}"):
            page = browser.new_page()
            page.goto(f"{hub.url}{path}")
            page.wait_for_selector(".map path.leaflet-interactive")
            shapes = page.locator(".map path.leaflet-interactive")
            assert shapes.count() >= 1
            tooltips = []
            for index in range(shapes.count()):
                shapes.nth(index).hover(force=True)
                tooltip = page.locator(".leaflet-tooltip")
                if tooltip.count():
                    tooltips.append(tooltip.last.inner_text())
            if path == "/":  # the index labels the outline with the headline
                assert HOSTILE in tooltips, tooltips
            # nothing from the headline became an element anywhere in a map
            assert page.locator(".map a[href*='evil.example']").count() == 0
            assert page.locator(".map img[src='x']").count() == 0
            assert page.locator("a[href*='evil.example']").count() == 0
            shots.take(page, "index" if path == "/" else "alert")
            page.close()
    finally:
        hub.stop()
