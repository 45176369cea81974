"""In a real browser: an admin adds a CAP source from the console, sees it polled and its
alert republished with its health in the list, sees a source the hub will not connect to
refused with the reason (nothing kept), pauses and edits it; every step through the same
audited operations as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.alerts import make_alert, xml
from tests.support.browser import Shots
from tests.support.jma_feed import FeedServer
from tests.support.waiting import until_blocking
from tests.web.conftest import CHIYODA, PASSWORD, Site


def _sign_in(page: Any, site: Site, username: str) -> None:
    page.goto(f"{site.url}/console")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")


def _sources(site: Site) -> dict[str, dict[str, Any]]:
    listed = site.api("GET", "/api/v1/feeds/sources").json()["sources"]
    return {s["name"]: s for s in listed}


def test_admin_adds_pauses_and_edits_a_source(
    browser: Any, site: Site, shots: Shots, tmp_path: Path
) -> None:
    site.user("operator", "ops", ["admin"])
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "one.xml").write_bytes(xml(make_alert(CHIYODA, ["131016"], identifier="web-1")))
    with FeedServer(feeds) as server:
        server.add("cap", "one.xml", "web-1")
        context = browser.new_context(viewport={"width": 1300, "height": 1200}, locale="ja-JP")
        page = context.new_page()
        _sign_in(page, site, "ops")
        page.goto(f"{site.url}/console/admin")
        page.click("#sources-link")
        page.wait_for_url(f"{site.url}/console/admin/sources")

        # One the hub will not connect to: refused, said why, nothing kept.
        page.fill("#source-name", "internal")
        page.fill("#source-url", "http://10.1.2.3/cap.xml")
        page.select_option("#source-organization", site.city["id"])
        page.check("#source-unsigned")
        page.click("#source-save")
        assert "ALERTCOMMONS_OUTBOUND_ALLOW" in page.locator("#source-error").inner_text()
        assert page.input_value("#source-name") == "internal"  # the form as typed
        assert "internal" not in _sources(site)
        shots.take(page, "refused")

        page.fill("#source-name", "chiyoda-feed")
        page.fill("#source-url", server.base_url + "cap.xml")
        page.fill("#source-poll", "1")
        page.click("#source-save")
        page.wait_for_url(f"{site.url}/console/admin/sources")

        def published() -> bool:
            page.reload()
            row = page.locator("#source-chiyoda-feed").inner_text()
            return (
                "正常" in row
                and "web-1" not in row
                and _sources(site)["chiyoda-feed"]["published"] == 1
            )

        until_blocking(published, seconds=30, what="the source added in the console not polled")
        row = page.locator("#source-chiyoda-feed")
        cells = row.locator("td")
        assert cells.nth(5).inner_text().strip() == "1"  # published
        assert "管理画面・API で追加" in cells.nth(0).inner_text()
        held = site.api("GET", "/api/v1/alerts", params={"sender": CHIYODA}).json()["items"]
        assert [a["identifier"] for a in held] == ["web-1"]
        shots.take(page, "polled")

        page.click("#pause-chiyoda-feed")
        page.wait_for_url(f"{site.url}/console/admin/sources")
        assert "一時停止中" in page.locator("#source-chiyoda-feed").inner_text()
        assert _sources(site)["chiyoda-feed"]["active"] is False

        page.click("#source-chiyoda-feed >> text=編集 Edit")
        assert page.input_value("#source-url") == server.base_url + "cap.xml"
        page.fill("#source-poll", "30")
        page.check("#source-active")
        page.click("#source-save")
        page.wait_for_url(f"{site.url}/console/admin/sources")
        source = _sources(site)["chiyoda-feed"]
        assert source["active"] is True and source["poll_seconds"] == 30.0
        shots.take(page, "edited")
