"""The receiver organization's console, in a real browser (Debian's chromium): a broadcaster's
desk signs in, previews a filter, registers a webhook pointing at a real receiver, sends a
test delivery and sees it arrive there (signed with the secret shown once) and on the page
(delivered, then acknowledged, with its latency) without reloading; edits the filter; rotates
the secret, and the next test delivery is signed with the new secret only. Any script error
fails the test; axe-core finds nothing serious; a 375 px phone reads the page."""

from __future__ import annotations

from typing import Any

from alertcommons.cap import read_alert
from alertcommons.delivery.channels.webhook import verify_signature
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.browser import Shots, axe_violations
from tests.support.receivers import Received
from tests.support.waiting import until_blocking
from tests.web.conftest import CHIYODA, Site

PATH = "/ok/desk"


def _publish_in_force(site: Site) -> None:
    alert = make_alert(CHIYODA, ["131016"])
    response = site.api(
        "POST", "/api/v1/alerts", token=site.city["token"], content=xml(alert), headers=CAP_XML
    )
    assert response.status_code == 201, response.text


def _arrived(site: Site, count: int) -> Received:
    until_blocking(
        lambda: len(site.receiver.for_path(PATH)) >= count,
        seconds=20,
        what=f"delivery {count} did not reach the receiver",
    )
    return site.receiver.for_path(PATH)[count - 1]


def _test_delivery(page: Any, site: Site) -> str:
    page.click("#test-button")
    page.wait_for_url("**/console/receivers/*?test=*")
    page.wait_for_selector("#test-outcome")
    return str(page.url.split("test=")[1].split("#")[0])


def test_register_test_edit_rotate(browser: Any, site: Site, shots: Shots) -> None:
    _publish_in_force(site)  # one alert in force for 千代田区: preview and backfill find it
    site.user(site.tv["id"], "tvdesk", ["viewer"])
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    site.sign_in(page, "tvdesk")
    page.click("nav.console a[href='/console/receivers']")
    page.wait_for_selector("#endpoints")  # the endpoint the fixture registered is listed
    assert "東京都 (13)" in page.locator("#endpoints").inner_text()
    axe = {"list": axe_violations(page)}
    shots.take(page, "list")

    # register: preview first, then save; backfill is on by default
    page.click("#new-endpoint")
    axe["new"] = axe_violations(page)
    assert page.is_checked("#backfill")
    page.fill("#label", "報道局 デスク")
    page.fill("#url", site.receiver.url(PATH))
    page.fill("#areas", "13")
    page.click("#preview-button")
    page.wait_for_selector("#preview")
    assert page.locator("#preview-in-force").inner_text() == "1"
    axe["preview"] = axe_violations(page)
    shots.take(page, "preview")
    page.click("#register-button")
    page.wait_for_selector("#new-secret")
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    assert "1 件を送ります" in page.locator("#notice").inner_text()
    backfilled = _arrived(site, 1)  # the alert in force, sent because backfill was on
    assert verify_signature(secret, backfilled.headers, backfilled.body)
    axe["endpoint"] = axe_violations(page)
    shots.take(page, "registered")

    # a test delivery: it reaches the receiver, signed; the page follows it to acknowledged
    delivery_id = _test_delivery(page, site)
    page.evaluate("() => { window.__sameDocument = true; }")
    received = _arrived(site, 2)
    assert received.headers["x-alert-commons-delivery"] == delivery_id
    assert verify_signature(secret, received.headers, received.body)
    assert read_alert(received.body).alert.status == "Test"
    page.wait_for_selector("#test-outcome .state-delivered, #test-outcome .state-acknowledged")
    ack = site.api("POST", f"/api/v1/deliveries/{delivery_id}/ack", token=site.tv["token"])
    assert ack.status_code == 200, ack.text
    page.wait_for_selector("#test-outcome .state-acknowledged", timeout=15_000)
    assert page.evaluate("() => window.__sameDocument") is True  # followed, not reloaded
    assert page.locator("#test-outcome [data-field=latency]").inner_text().endswith(" ms")
    assert "まだ" not in page.locator("#test-outcome [data-field=acknowledged]").inner_text()
    shots.take(page, "test-acknowledged")
    page.reload()
    row = page.locator(f"#deliveries tr[data-delivery='{delivery_id}']").inner_text()
    assert "受信確認" in row and " ms" in row and "acknowledged" not in row  # one language

    # edit: label and filter (the page says it in words)
    page.fill("#label", "報道局 デスク（千代田区）")
    page.fill("#areas", "131016")
    page.select_option("#min_severity", "Severe")
    page.click("#save-button")
    page.wait_for_selector("#notice")
    assert "送り先URL" in page.locator("#about-heading + dl").inner_text()
    summary = page.locator("#filter-summary").inner_text()
    assert "東京都千代田区 (13101)" in summary and "深刻度「重大」以上" in summary, summary
    assert page.locator("h1").inner_text() == "報道局 デスク（千代田区）"
    # the same page in English, chosen with ?lang= (and remembered for what follows)
    page.goto(page.url.split("?")[0] + "?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    summary = page.locator("#filter-summary").inner_text()
    assert "Chiyoda-ku, Tokyo (13101)" in summary and "Severity Severe or higher" in summary
    assert "深刻度" not in page.locator("main").inner_text()
    assert "URL" in page.locator("#about-heading + dl").inner_text()
    saved = [
        e
        for e in site.api("GET", "/api/v1/endpoints", token=site.tv["token"]).json()["items"]
        if e["url"] == site.receiver.url(PATH)
    ]
    assert saved[0]["filter"] == {"areas": ["13101"], "min_severity": "Severe"}

    # rotate: a new secret, shown once; the next test is signed with it, not the old one
    page.click("#rotate-button")
    page.wait_for_selector("#new-secret")
    rotated = page.locator("#new-secret").inner_text()
    assert rotated.startswith("whsec_") and rotated != secret
    _test_delivery(page, site)
    after = _arrived(site, 3)
    assert verify_signature(rotated, after.headers, after.body)
    assert not verify_signature(secret, after.headers, after.body)
    page.wait_for_selector("#test-outcome .state-delivered")
    shots.take(page, "rotated")

    assert axe == {name: [] for name in axe}, axe
    endpoint_url = page.url.split("?")[0]
    context.close()

    # a phone: nothing wider than the screen, the same page still clean
    phone = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    small = phone.new_page()
    small.on("pageerror", lambda error: errors.append(str(error)))
    site.sign_in(small, "tvdesk")
    for name, url in (
        ("list", f"{site.url}/console/receivers"),
        ("new", f"{site.url}/console/receivers/new"),
        ("endpoint", endpoint_url),
    ):
        for lang in ("ja", "en"):
            small.goto(f"{url}?lang={lang}")
            assert small.locator("html").get_attribute("lang") == lang
            wide = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
            assert small.evaluate(wide), (name, lang)
            assert axe_violations(small) == [], (name, lang)
            shots.take(small, f"phone-{name}-{lang}")
    phone.close()
    assert errors == []


def test_issuer_accounts_cannot_open_it(browser: Any, site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    page = browser.new_page()
    site.sign_in(page, "chiyoda")
    assert page.locator("nav.console a[href='/console/receivers']").count() == 0
    response = page.goto(f"{site.url}/console/receivers")
    assert response is not None and response.status == 403
