"""In a real browser: an officer uploads a shelters file with broken rows (the page lists each
with its line in the console's language, and nothing is registered), then the demo's district
and shelter files; compose then offers them as lists — two ticked districts go out with their
registered outlines, and a registered shelter fills the shelter form."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from tests.support.browser import Shots, axe_violations
from tests.web.conftest import Site

DEMO = resources.files("alertcommons.jp").joinpath("demo_places")


def test_import_files_then_pick_from_the_lists(
    browser: Any, site: Site, shots: Shots, tmp_path: Path
) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    page = browser.new_page(viewport={"width": 1100, "height": 1200})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    site.sign_in(page, "chiyoda")
    page.click("nav.console a[href='/console/places']")
    page.wait_for_url(f"{site.url}/console/places")
    assert axe_violations(page) == []

    rows = DEMO.joinpath("chiyoda-shelters.csv").read_text("utf-8").splitlines()
    rows[2] = rows[2].replace("35.6885", "35.x")  # line 3
    rows[4] = rows[4].replace("東京都千代田区富士見1-10-3", "")  # line 5: no address
    broken = tmp_path / "shelters.csv"
    broken.write_bytes("\n".join(rows).encode("cp932"))
    page.set_input_files("#shelters-file", str(broken))
    page.click("#shelters-import")
    page.wait_for_selector("#import-errors")
    shown = page.inner_text("#import-errors")
    assert "3行目" in shown and "緯度" in shown
    assert "5行目" in shown and "住所" in shown
    assert "何も変更していません" in shown and "Line" not in shown  # one language
    assert page.locator("#sites-list").count() == 0
    shots.take(page, "import-errors")

    page.set_input_files("#districts-file", str(DEMO.joinpath("chiyoda-districts.geojson")))
    page.click("#districts-import")
    page.wait_for_selector("#import-notice")
    assert "地区を 8 件取り込みました" in page.inner_text("#import-notice")
    assert "神田地区" in page.inner_text("#districts-list")
    page.set_input_files("#shelters-file", str(DEMO.joinpath("chiyoda-shelters.csv")))
    page.click("#shelters-import")
    page.wait_for_selector("#sites-list")
    assert "九段小学校" in page.inner_text("#sites-list")
    shots.take(page, "imported")

    # The same page in English (chosen, then remembered): the notice, the file's problems
    # and the lists in English alone; clean for axe, also on a 375 px phone.
    page.goto(f"{site.url}/console/places?municipality=131016&imported=districts-8&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Imported 8 districts." in page.inner_text("#import-notice")
    assert "Chiyoda-ku" in page.inner_text("#municipality")
    page.set_input_files("#shelters-file", str(broken))
    page.click("#shelters-import")
    page.wait_for_selector("#import-errors")
    shown = page.inner_text("#import-errors")
    assert "Line 3" in shown and "Line 5" in shown and "nothing was changed" in shown
    assert "行目" not in shown
    assert "designated shelter" in page.inner_text("#sites-list")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{site.url}/console/places")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth + 1")
    assert axe_violations(page) == []
    shots.take(page, "places-en-phone")
    page.set_viewport_size({"width": 1100, "height": 1200})
    page.goto(f"{site.url}/console/places?lang=ja")

    # Compose: two registered districts, ticked.
    page.goto(f"{site.url}/console/compose?template=evacuation")
    page.check("#registered-districts input[value='神田地区']")
    page.check("#registered-districts input[value='番町地区']")
    page.check("input[name=level][value='4']")
    page.select_option("#hazard", "flood")
    page.check("input[name=status][value='Exercise']")
    page.click("#preview-button")
    page.wait_for_load_state()
    assert page.locator("#compose-error").count() == 0, page.inner_text("#compose-error")
    page.click("#publish-button")
    page.wait_for_url(f"{site.url}/console/alerts/**")
    state = site.api(
        "GET", "/api/v1/jp/evacuation", params={"code": "131016", "status": "Exercise"}
    ).json()
    assert sorted(o["district"] for o in state["orders"]) == sorted(["神田地区", "番町地区"])
    cap = site.api("GET", f"/api/v1/alerts/{state['alert_id']}/cap").text
    # each district with its registered outline, in each language
    assert cap.count("<area>") == cap.count("<polygon>") >= 2, cap

    # Compose: a registered shelter fills the form.
    page.goto(f"{site.url}/console/compose?template=shelter")
    page.select_option("#place_site", "shelter:1")
    assert page.input_value("#name") == "九段小学校"
    assert page.input_value("#capacity") == "600"
    page.check("input[name=status][value='Exercise']")
    page.click("#publish-button")
    page.wait_for_url(f"{site.url}/console/alerts/**")
    open_now = site.api(
        "GET", "/api/v1/jp/shelters", params={"code": "131016", "status": "Exercise"}
    ).json()["shelters"]
    assert [(s["id"], s["name"], s["capacity"]) for s in open_now] == [("1", "九段小学校", 600)]
    assert errors == []
