"""In a real browser: compose draws the chosen municipality's registered districts on its map
(ticked ones drawn stronger), and the registered lists follow the municipality select — an
officer of two wards switching the shelter form between them sees each ward's sites, with no
page reload and what was typed kept."""

from __future__ import annotations

from importlib import resources
from typing import Any

from tests.web.conftest import PASSWORD, Site

DEMO = resources.files("alertcommons.jp").joinpath("demo_places")


def _import(site: Site, token: str, what: str, name: str, content_type: str) -> None:
    response = site.api(
        "POST",
        f"/api/v1/jp/{what}/import?code=131016",
        token=token,
        content=DEMO.joinpath(name).read_bytes(),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text


def test_map_draws_registered_districts_and_lists_follow_the_select(
    browser: Any, site: Site
) -> None:
    wards = site.hub.org("千代田区・中央区", "issuer", "wards.tokyo.jp", ["131016", "131024"])
    site.user(wards["id"], "wards", ["drafter", "approver"])
    _import(site, wards["token"], "districts", "chiyoda-districts.geojson", "application/geo+json")
    _import(site, wards["token"], "shelters", "chiyoda-shelters.csv", "text/csv")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.url}/console")
    page.fill("#username", "wards")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")

    # Evacuation for 千代田区: its 8 registered districts on the map over its outline.
    page.goto(f"{site.url}/console/compose?template=evacuation&municipality=131016")
    page.wait_for_selector("#compose-map[data-districts-drawn='8']")
    page.wait_for_selector("#compose-map[data-outlines-drawn='1']")
    strong = "() => document.querySelectorAll('#compose-map path[stroke=\"#aa00aa\"]').length"
    assert page.evaluate(strong) == 0
    page.check("#district-choices input[value='神田地区']")
    assert page.evaluate(strong) == 1  # the ticked district, drawn in level 4's colour
    # 中央区 (nothing registered): the page reloads with its own state and no districts.
    page.select_option("#municipality", "131024")
    page.wait_for_url("**municipality=131024**")
    page.wait_for_selector("#districts-none", state="visible")
    page.wait_for_selector("#compose-map[data-districts-drawn='0']")
    assert page.locator("#district-choices input").count() == 0

    # Shelter form: the list follows the select in place, keeping what was typed.
    page.goto(f"{site.url}/console/compose?template=shelter&municipality=131024")
    assert page.locator("#sites-some").is_hidden()
    assert page.locator("#sites-none").is_visible()
    page.fill("#address", "typed before switching")
    page.select_option("#municipality", "131016")
    page.wait_for_selector("#sites-some", state="visible")
    assert page.locator("#sites-none").is_hidden()
    assert "九段小学校" in page.locator("#place_site").inner_text()
    assert "/console/compose?template=shelter&municipality=131024" in page.url  # no reload
    page.select_option("#place_site", "shelter:1")
    assert page.input_value("#name") == "九段小学校"
    page.select_option("#municipality", "131024")
    page.wait_for_selector("#sites-none", state="visible")
    assert page.locator("#place_site option").count() == 1  # only "type the details"
    assert errors == []
