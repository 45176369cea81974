"""Nothing loads from the internet: every page the hub serves, in a real browser whose
requests to any other host are refused, loads without one outside request, one page error or
one failed request — the public pages, the console's pages signed in, and ``/docs``, where
Swagger UI must actually render the list of operations.

The hub is the one ``make run`` starts (``serve --demo``), with its demo alerts and accounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.browser import Shots, sign_in
from tests.support.demo import DemoHub


class Watch:
    """Everything in one browser context that would mean "not offline" or "broken"."""

    def __init__(self, context: Any, base: str) -> None:
        self.host = urlsplit(base).netloc
        self.outside: list[str] = []
        self.problems: list[str] = []
        context.route("**/*", self._route)
        self.current = ""

    def _route(self, route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(f"{self.current}: {url}")
            route.abort("blockedbyclient")

    def page(self, context: Any) -> Any:
        page = context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"{self.current}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"{self.current}: console {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("response", self._response)
        return page

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{self.current}: {response.status} {response.url}")

    def visit(self, page: Any, base: str, path: str, idle: bool = True) -> None:
        self.current = path
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        # The delivery board keeps an event stream open: it never goes network-idle.
        page.wait_for_load_state("networkidle" if idle else "load")


def test_every_page_loads_with_other_hosts_blocked(
    browser: Any, tmp_path: Path, shots: Shots
) -> None:
    with DemoHub(tmp_path / "checkout") as hub:
        base = hub.url
        passwords = hub.credentials()["passwords"]
        alerts = httpx.get(f"{base}/api/v1/alerts", params={"limit": 100}).json()["items"]
        assert len(alerts) >= 2, alerts  # the demo's alerts: an evacuation order, a warning
        context = browser.new_context(viewport={"width": 1100, "height": 1000})
        watch = Watch(context, base)
        page = watch.page(context)

        public = ["/", "/?lang=en"]
        for alert in alerts:
            public += [f"/alerts/{alert['id']}", f"/alerts/{alert['id']}?lang=en"]
        for path in public:
            watch.visit(page, base, path)
        shots.take(page, "alert-page")

        watch.visit(page, base, "/docs")
        page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI rendered the schema
        operations = page.locator(".opblock").count()
        assert operations >= 20, operations
        assert page.locator(".opblock-summary-path", has_text="/api/v1/alerts").count() >= 1
        shots.take(page, "docs")

        watch.visit(page, base, "/console/login")
        sign_in(page, base, "admin", passwords["admin"], start="/console/login")
        for path in ("/console", "/console/admin", "/console/admin/organizations/demo-chiyoda"):
            watch.visit(page, base, path)
        watch.visit(page, base, "/console/account")
        context.clear_cookies()

        sign_in(page, base, "chiyoda", passwords["chiyoda"], start="/console/login")
        watch.visit(page, base, "/console")
        for template in ("evacuation", "shelter", "free"):
            watch.visit(page, base, f"/console/compose?template={template}")
        mine = [a for a in alerts if a["sender"].endswith("chiyoda.tokyo.jp")]
        assert mine, alerts
        watch.visit(page, base, f"/console/alerts/{mine[0]['id']}", idle=False)
        page.wait_for_selector("table, .board, main", timeout=10_000)
        shots.take(page, "delivery-board")
        watch.visit(page, base, "/console/account")
        context.clear_cookies()

        # A drafter's way under two-person approval: compose, preview, then the draft page.
        approval = httpx.patch(
            f"{base}/api/v1/organizations/demo-chiyoda",
            json={"two_person_approval": True},
            headers={"Authorization": f"Bearer {hub.credentials()['admin']}"},
        )
        assert approval.status_code == 200, approval.text
        sign_in(page, base, "chiyoda-drafter", passwords["chiyoda-drafter"], start="/console/login")
        watch.visit(page, base, "/console/compose?template=evacuation")
        page.select_option("#municipality", "131016")
        page.check("input[name=level][value='3']")
        page.select_option("#hazard", "flood")
        page.check("#status-Actual")  # nothing is preselected; under approval it is a draft
        page.click("#preview-button")
        page.wait_for_selector("#preview")
        page.wait_for_load_state("networkidle")
        page.click("#publish-button")
        page.wait_for_url(f"{base}/console/drafts/**")
        page.wait_for_load_state("networkidle")
        shots.take(page, "draft")
        context.close()

    assert watch.outside == [], watch.outside
    assert watch.problems == [], watch.problems


def test_the_watch_sees_an_outside_request(browser: Any, tmp_path: Path) -> None:
    """The test above would see a page that reaches for another host: a page that does so
    is caught (the hub serves none, so the page here is the browser's own)."""
    context = browser.new_context()
    watch = Watch(context, "http://127.0.0.1:9")
    page = watch.page(context)
    page.set_content('<img src="https://cdn.example.org/x.png">')
    page.wait_for_load_state("networkidle")
    assert watch.outside == [": https://cdn.example.org/x.png"], watch.outside
    context.close()
