"""Accessibility in the browser: axe-core (WCAG 2.1 A/AA rules) finds no serious or critical
violation on the public index, an alert page, and every console page (issuer's, receiver's,
the confirmation and a refusal) in Japanese and English at 1100 and 375 px; the console works with
the keyboard alone; large text and high contrast hold; a phone-sized screen still reads."""

from __future__ import annotations

from importlib import resources
from typing import Any

from tests.support.alerts import CAP_XML, KANDA_SCHOOL, make_alert, xml
from tests.support.browser import ARTIFACTS, Shots, axe_violations, tab_to
from tests.web.conftest import CHIYODA, PASSWORD, Site


def _publish(site: Site) -> str:
    alert = make_alert(
        CHIYODA,
        ["131016"],
        polygon="35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750",
    )
    alert.infos[0].description = "千代田区は、神田地区に避難指示を発令しました。"
    alert.infos[0].instruction = "危険な場所から全員避難してください。"
    # A circle too: drawing one before the map had a view threw and blanked the page.
    alert.infos[0].areas[0].circles = ["35.685,139.755 0.5"]
    response = site.api(
        "POST", "/api/v1/alerts", token=site.city["token"], content=xml(alert), headers=CAP_XML
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


class Watch:
    """Every page error (an uncaught exception) and every request to another host, for a
    page's whole life: a map that throws blanks the page, and a resident's browser must not
    be sent to any host but the hub (no tile server, no CDN)."""

    def __init__(self, page: Any, origin: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("request", self._request(origin))

    def _request(self, origin: str) -> Any:
        def seen(request: Any) -> None:
            url = request.url
            if not url.startswith((origin, "data:", "about:")):
                self.foreign.append(url)

        return seen


def _publish_kinds(site: Site) -> dict[str, str]:
    """A drawn area, a ward-wide evacuation order and a shelter (a circle plus a marker)."""
    found = {"area": _publish(site)}
    order = site.api(
        "POST",
        "/api/v1/jp/evacuation",
        token=site.city["token"],
        json={"municipality": "131016", "level": 4, "hazard": "flood"},
    )
    assert order.status_code == 201, order.text
    shelter = site.api(
        "POST",
        "/api/v1/jp/shelters",
        token=site.city["token"],
        json={**KANDA_SCHOOL, "state": "open"},
    )
    assert shelter.status_code == 201, shelter.text
    return {**found, "order": order.json()["id"], "shelter": shelter.json()["id"]}


def _outlines_drawn(page: Any, map_id: str) -> int:
    page.wait_for_selector(f"#{map_id}[data-outlines-drawn]")
    drawn: str = page.get_attribute(f"#{map_id}", "data-outlines-drawn")
    return int(drawn)


def test_public_pages_in_both_languages_and_on_a_phone(
    browser: Any, site: Site, shots: Shots
) -> None:
    alerts = _publish_kinds(site)
    found = {}
    for width, height in ((1280, 900), (375, 740)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        watch = Watch(page, site.url)
        for lang in ("ja", "en"):
            pages = [("index", "/", "overview")] + [
                (kind, f"/alerts/{alert_id}", "alert-map") for kind, alert_id in alerts.items()
            ]
            for name, path, map_id in pages:
                page.goto(f"{site.url}{path}?lang={lang}")
                # Outlines from the hub itself, with no tile server configured.
                drawn = _outlines_drawn(page, map_id)
                if name in ("index", "order"):
                    assert drawn >= 1, (name, lang, width)
                where = f"{name} {lang} {width}"
                assert page.locator(f"#{map_id} .leaflet-tile").count() == 0, where
                assert page.locator(f"#{map_id} path.leaflet-interactive").count() >= 1, where
                assert "国土数値情報" in page.inner_text(".map-figure"), where
                if name == "shelter":  # the shelter is a marker, and the page is whole
                    assert page.locator(f"#{map_id} path.shelter-marker").count() == 1, where
                    assert page.locator("#verify-heading").is_visible(), where
                key = f"{name}-{lang}-{width}"
                found[key] = axe_violations(page)
                if name in ("index", "order"):
                    shots.take(page, key)
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / f"public-{key}.png"), full_page=True)
                if width == 375:  # nothing wider than the phone
                    assert page.evaluate(
                        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
                    ), key
            page.goto(f"{site.url}/alerts/01NOSUCHALERT0000000000000?lang={lang}")
            found[f"missing-{lang}-{width}"] = axe_violations(page)
        assert watch.errors == [] and watch.foreign == [], (watch.errors, watch.foreign)
        context.close()
    assert found == {name: [] for name in found}, found


def _console_checks(page: Any, found: dict[str, Any], key: str, width: int) -> None:
    """axe on the page as it stands; on a phone also nothing wider than the screen."""
    found[key] = axe_violations(page)
    if width == 375:
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > width + 1:
            found[key] = [*found[key], {"id": "wider-than-phone", "scrollWidth": wide}]


SIZES = ((1100, 1200), (375, 740))


def test_axe_console_pages(browser: Any, site: Site, shots: Shots) -> None:
    """Every console page of an issuer and of a receiving organization, and the refusal
    page, in Japanese and in English, on a desktop and on a 375 px phone."""
    alert_id = _publish(site)
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    site.user(site.tv["id"], "tvdesk", ["viewer"])
    endpoint_id = site.api("GET", "/api/v1/endpoints", token=site.tv["token"]).json()["items"][0][
        "id"
    ]
    demo = resources.files("alertcommons.jp").joinpath("demo_places")
    for what, name, kind in (
        ("districts", "chiyoda-districts.geojson", "application/geo+json"),
        ("shelters", "chiyoda-shelters.csv", "text/csv"),
    ):  # so compose shows its lists of registered districts and shelters
        imported = site.api(
            "POST",
            f"/api/v1/jp/{what}/import?code=131016",
            token=site.city["token"],
            content=demo.joinpath(name).read_bytes(),
            headers={"Content-Type": kind},
        )
        assert imported.status_code == 200, imported.text
    found: dict[str, Any] = {}
    watches = []
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        watches.append(Watch(page, site.url))
        for lang in ("ja", "en"):
            page.goto(f"{site.url}/console/login?lang={lang}")
            _console_checks(page, found, f"login-{lang}-{width}", width)
            site.sign_in(page, "chiyoda", start="/console/login")
            assert page.locator("html").get_attribute("lang") == lang
            for name, path in (
                ("console-home", "/console"),
                ("account", "/console/account"),
                ("places", "/console/places"),
                ("refused", "/console/admin"),  # an issuer's refusal page
            ):
                page.goto(f"{site.url}{path}")
                _console_checks(page, found, f"{name}-{lang}-{width}", width)
            page.goto(f"{site.url}/console/alerts/{alert_id}")
            page.wait_for_load_state("networkidle")
            _console_checks(page, found, f"delivery-board-{lang}-{width}", width)
            for template in ("evacuation", "shelter", "free"):
                page.goto(f"{site.url}/console/compose?template={template}")
                page.wait_for_load_state("networkidle")
                if template != "free":  # the municipality's outline, from the hub
                    assert _outlines_drawn(page, "compose-map") == 1
                _console_checks(page, found, f"compose-{template}-{lang}-{width}", width)
                shots.take(page, f"compose-{template}-{lang}-{width}")
            page.click("#preview-button")  # the free template with nothing filled in: an error
            _console_checks(page, found, f"compose-error-{lang}-{width}", width)
            # The confirmation of an Actual message (not sent).
            page.goto(f"{site.url}/console/compose?template=evacuation")
            page.check("#level-3")
            page.check("#status-Actual")
            page.click("#publish-button")
            page.wait_for_selector("#confirm-button")
            _console_checks(page, found, f"confirm-{lang}-{width}", width)
            context.clear_cookies()
            # A receiving organization's pages.
            page.goto(f"{site.url}/console/login?lang={lang}")
            site.sign_in(page, "tvdesk", start="/console/login")
            for name, path in (
                ("receivers", "/console/receivers"),
                ("receiver-new", "/console/receivers/new"),
                ("receiver", f"/console/receivers/{endpoint_id}"),
            ):
                page.goto(f"{site.url}{path}")
                assert page.locator("html").get_attribute("lang") == lang
                _console_checks(page, found, f"{name}-{lang}-{width}", width)
            context.clear_cookies()
        context.close()
    assert found == {name: [] for name in found}, {k: v for k, v in found.items() if v}
    # The administrator's pages load whole too (their layout is checked in test_console_admin).
    site.user("operator", "ops", ["admin"])
    admin = browser.new_context(viewport={"width": 1100, "height": 1200})
    other = admin.new_page()
    admin_watch = Watch(other, site.url)
    site.sign_in(other, "ops", start="/console/login")
    for path in ("/console/admin", f"/console/admin/organizations/{site.city['id']}"):
        response = other.goto(f"{site.url}{path}")
        assert response is not None and response.status == 200, path
        other.wait_for_load_state("networkidle")
    for seen in (*watches, admin_watch):
        assert seen.errors == [] and seen.foreign == [], (seen.errors, seen.foreign)
    admin.close()


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
