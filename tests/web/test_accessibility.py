"""Accessibility in the browser: axe-core (WCAG 2.1 A/AA rules) finds no serious or critical
violation on the public index, an alert page and the compose page; the console works with
the keyboard alone; large text and high contrast hold; a phone-sized screen still reads."""

from __future__ import annotations

from typing import Any

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.browser import Shots, axe_violations, tab_to
from tests.web.conftest import CHIYODA, PASSWORD, Site


def _publish(site: Site) -> str:
    alert = make_alert(
        CHIYODA,
        ["131016"],
        polygon="35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750",
    )
    alert.infos[0].description = "千代田区は、神田地区に避難指示を発令しました。"
    alert.infos[0].instruction = "危険な場所から全員避難してください。"
    response = site.api(
        "POST", "/api/v1/alerts", token=site.city["token"], content=xml(alert), headers=CAP_XML
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


def test_axe_public_index_alert_page_and_compose(browser: Any, site: Site, shots: Shots) -> None:
    alert_id = _publish(site)
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    context = browser.new_context(viewport={"width": 1100, "height": 1200})
    page = context.new_page()
    found = {}
    for name, path in (
        ("public-index", "/"),
        ("public-index-en", "/?lang=en"),
        ("alert-page", f"/alerts/{alert_id}"),
        ("alert-page-en", f"/alerts/{alert_id}?lang=en"),
    ):
        page.goto(f"{site.url}{path}")
        page.wait_for_load_state("networkidle")
        found[name] = axe_violations(page)
        shots.take(page, name)
    page.goto(f"{site.url}/console")
    found["login"] = axe_violations(page)
    page.fill("#username", "chiyoda")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    for name, path in (("console-home", "/console"), ("account", "/console/account")):
        page.goto(f"{site.url}{path}")
        found[name] = axe_violations(page)
    page.goto(f"{site.url}/console/alerts/{alert_id}")
    page.wait_for_load_state("networkidle")
    found["delivery-board"] = axe_violations(page)
    for template in ("evacuation", "shelter", "free"):
        page.goto(f"{site.url}/console/compose?template={template}")
        page.wait_for_load_state("networkidle")
        found[f"compose-{template}"] = axe_violations(page)
        shots.take(page, f"compose-{template}")
    page.click("#preview-button")  # the free template with nothing filled in: an error page
    found["compose-error"] = axe_violations(page)
    assert found == {name: [] for name in found}, found
    context.close()


def test_high_contrast_large_text_and_phone(browser: Any, site: Site, shots: Shots) -> None:
    alert_id = _publish(site)
    phone = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    page = phone.new_page()
    page.goto(f"{site.url}/alerts/{alert_id}")
    page.click("[data-toggle=contrast]")
    page.click("[data-toggle=large]")
    assert page.get_attribute("[data-toggle=contrast]", "aria-pressed") == "true"
    size = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
    assert size == "22px"  # 137.5 % of 16 px
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(0, 0, 0)"
    # Nothing wider than the phone: no sideways scrolling to read the message.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert axe_violations(page) == []
    shots.take(page, "phone-contrast-large")
    page.reload()  # the choice is remembered
    assert page.evaluate("() => document.documentElement.classList.contains('contrast')")
    phone.close()


def test_keyboard_only_sign_in_and_publish(browser: Any, site: Site, shots: Shots) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    context = browser.new_context(viewport={"width": 1100, "height": 1200})
    page = context.new_page()
    page.goto(f"{site.url}/console/login")
    tab_to(page, "username")
    page.keyboard.type("chiyoda")
    tab_to(page, "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/console")
    page.goto(f"{site.url}/console/compose?template=evacuation")
    tab_to(page, "level-3")  # no level is preselected: the arrow key moves to level 4
    page.keyboard.press("ArrowRight")
    assert page.is_checked("#level-4")
    tab_to(page, "district_1")
    page.keyboard.type("神田地区")
    tab_to(page, "status-Actual")
    page.keyboard.press("Space")
    tab_to(page, "publish-button")
    shots.take(page, "keyboard-before-publish")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-button")  # Actual: the confirmation page first
    tab_to(page, "confirm-button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/console/alerts/**")
    page.wait_for_selector("#board-rows td.state-delivered", timeout=20_000)
    tab_to(page, "cancel-button")  # the cancel button is reachable too
    shots.take(page, "keyboard-published")
    context.close()
