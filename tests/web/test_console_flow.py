"""In a real browser (Debian's chromium): sign in, compose a level-4 evacuation order for two
districts (one drawn on the map), preview, publish, watch the live board reach "delivered" for
a real webhook receiver, open the public page and see the verified signature; cancel it and
see it leave the active list. The same with two-person approval: a drafter cannot publish
alone. Screenshots of each step land in artifacts/screenshots/."""

from __future__ import annotations

import time
from typing import Any

import pytest

from alertcommons.cap import read_alert
from tests.support.browser import Shots
from tests.web.conftest import Site


def _compose_level_4(page: Any, site: Site, shots: Shots) -> None:
    page.goto(f"{site.url}/console/compose?template=evacuation")
    page.select_option("#municipality", "131016")
    page.check("input[name=level][value='4']")
    page.select_option("#hazard", "flood")
    page.fill("#district_1", "神田地区")
    page.fill("#district_2", "番町地区")
    page.check("input[name=status][value=Actual]")
    # Draw 神田地区 on the map: open its outline, four clicks, then Finish.
    page.click("details.outline >> nth=0")
    page.click("[data-draw=polygon_1]")
    box = page.locator("#compose-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-30, -30), (30, -30), (30, 30), (-30, 30)):
        page.mouse.click(cx + dx, cy + dy)
    page.click("#draw-finish")
    outline = page.input_value("#polygon_1")
    points = outline.split()
    assert len(points) == 5 and points[0] == points[-1], outline
    shots.take(page, "compose")


def test_compose_publish_watch_verify_cancel(browser: Any, site: Site, shots: Shots) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    context = browser.new_context(viewport={"width": 1100, "height": 1200}, locale="ja-JP")
    page = context.new_page()
    site.sign_in(page, "chiyoda")
    shots.take(page, "signed-in")

    _compose_level_4(page, site, shots)
    page.click("#preview-button")
    page.wait_for_selector("#preview")
    assert page.locator("#receiver-count").inner_text() == "1"
    preview = page.locator("#preview").inner_text()
    assert "【警戒レベル4】避難指示（洪水）" in preview
    assert "神田地区: なし → レベル4" in preview  # what changes
    shots.take(page, "preview")

    page.click("#publish-button")
    page.click("#confirm-button")  # Actual: sent from the confirmation page
    page.wait_for_url(f"{site.url}/console/alerts/**")
    page.evaluate("() => { window.__sameDocument = true; }")
    # The board turns "delivered" over SSE, without reloading the page.
    page.wait_for_selector("#board-rows td.state-delivered", timeout=20_000)
    assert page.evaluate("() => window.__sameDocument") is True
    assert page.locator("[data-count=delivered]").inner_text() == "1"
    shots.take(page, "board-delivered")
    delivered = site.receiver.for_path("/ok/tv")
    assert len(delivered) == 1
    alert = read_alert(delivered[0].body).alert
    assert [a.area_desc for a in alert.infos[0].areas] == [
        "東京都千代田区 神田地区",
        "東京都千代田区 番町地区",
    ]
    assert alert.infos[0].areas[0].polygons  # the outline drawn on the map

    page.click("#public-link")
    page.wait_for_selector("#signature-status")
    assert page.get_attribute("#signature-status", "data-signature") == "valid"
    assert "東京都千代田区" in page.locator("#authority").inner_text()
    assert "神田地区" in page.content()
    public_url = page.url
    page.wait_for_selector("#alert-map path.leaflet-interactive")  # the outline, no tiles
    shots.take(page, "public-alert-verified")

    page.goto(f"{site.url}/")
    assert page.locator(f"a[href^='/alerts/{public_url.rsplit('/', 1)[1]}']").count() == 1
    shots.take(page, "public-index-listed")

    page.go_back()
    page.goto(public_url.replace("/alerts/", "/console/alerts/"))
    page.click("#cancel-button")
    page.wait_for_url(f"{site.url}/console/alerts/**")
    page.wait_for_selector("#board-rows td.state-delivered", timeout=20_000)
    shots.take(page, "cancel-delivered")
    assert len(site.receiver.for_path("/ok/tv")) == 2
    cancel = read_alert(site.receiver.for_path("/ok/tv")[1].body).alert
    assert cancel.msg_type == "Cancel"
    assert cancel.references and str(alert.identifier) in cancel.references

    page.goto(f"{site.url}/")
    alert_id = public_url.rsplit("/", 1)[1].split("?")[0]
    assert page.locator(f"a[href^='/alerts/{alert_id}']").count() == 0
    shots.take(page, "public-index-after-cancel")
    page.goto(public_url)
    assert page.locator(".banner.cancelled").count() == 1
    shots.take(page, "public-alert-cancelled")
    context.close()


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_two_person_approval(browser: Any, site: Site, shots: Shots) -> None:
    site.approval(site.city["id"], True)
    site.user(site.city["id"], "drafter", ["drafter"])
    site.user(site.city["id"], "approver", ["drafter", "approver"])

    drafting = browser.new_context(viewport={"width": 1100, "height": 1200})
    page = drafting.new_page()
    site.sign_in(page, "drafter")
    _compose_level_4(page, site, shots)
    assert "承認を依頼" in page.locator("#publish-button").inner_text()
    page.click("#publish-button")
    page.wait_for_url(f"{site.url}/console/drafts/**")
    draft_url = page.url
    assert page.locator("#needs-second").count() == 1
    assert page.locator("#approve-button").count() == 0
    shots.take(page, "draft-waiting")

    # Even forging the approval request with the drafter's own session is refused.
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = page.request.post(f"{draft_url}/approve", form={"csrf_token": csrf})
    assert forged.status == 403
    time.sleep(1.0)
    assert site.receiver.for_path("/ok/tv") == []  # nothing went out
    drafting.close()

    approving = browser.new_context(viewport={"width": 1100, "height": 1200})
    page = approving.new_page()
    site.sign_in(page, "approver")
    page.goto(draft_url)
    assert "【警戒レベル4】避難指示（洪水）" in page.locator("#preview").inner_text()
    shots.take(page, "draft-to-approve")
    page.click("#approve-button")
    page.wait_for_url(f"{site.url}/console/alerts/**")
    page.wait_for_selector("#board-rows td.state-delivered", timeout=20_000)
    shots.take(page, "approved-delivered")
    assert len(site.receiver.for_path("/ok/tv")) == 1
    page.goto(draft_url)
    assert "published" in page.locator("#draft-state").inner_text()
    approving.close()


def test_shelter_placed_by_clicking_the_map(browser: Any, site: Site, shots: Shots) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    page = browser.new_page(viewport={"width": 1100, "height": 1200})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    site.sign_in(page, "chiyoda")
    page.goto(f"{site.url}/console/compose?template=shelter")
    page.fill("#shelter_id", "kudan")
    page.fill("#name", "九段小学校")
    page.fill("#address", "千代田区三番町16")
    box = page.locator("#compose-map").bounding_box()
    # Just beside the municipality's centre marker (within 千代田区); click() scrolls to it.
    near = {"x": box["width"] / 2 + 20, "y": box["height"] / 2 + 15}
    page.locator("#compose-map").click(position=near)
    assert page.input_value("#lat") and page.input_value("#lon")
    page.check("input[name=hazard_flood]")
    page.check("input[name=status][value=Actual]")
    page.click("#publish-button")
    page.wait_for_load_state()
    assert page.locator("#compose-error").count() == 0, page.locator("#compose-error").inner_text()
    page.click("#confirm-button")
    page.wait_for_load_state()
    assert page.locator("#compose-error").count() == 0, page.locator("#compose-error").inner_text()
    page.wait_for_url(f"{site.url}/console/alerts/**")
    shots.take(page, "shelter-published")
    assert errors == []
    shelters = site.api("GET", "/api/v1/jp/shelters?code=131016").json()["shelters"]
    assert [s["name"] for s in shelters] == ["九段小学校"]
    page.close()
