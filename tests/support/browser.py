"""A real browser for the web tests: Debian's chromium (never a downloaded one), driven by
Playwright. Absent on a laptop, the tests skip; under ALERTCOMMONS_REQUIRE_SERVICES=1 they
fail instead."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import required

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Flags that keep chromium quiet on a machine without internet (see the machine notes).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _need_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if required():
        pytest.fail(f"{message} (ALERTCOMMONS_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator[Any]:
    # One per test, not per session: sync Playwright runs an event loop of its own while it
    # is open, and the suite's async tests need the thread's loop free between browser tests.
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


class Shots:
    """Screenshots of each step, kept under artifacts/screenshots/<test>/."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page: Any, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name.replace("[", "-").replace("]", ""))


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make assets` (npm ci)")
    # Served by the hub itself: the pages' Content-Security-Policy allows no inline script.
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def tab_to(page: Any, element_id: str, limit: int = 120) -> None:
    """Move the focus with the Tab key alone until the element has it."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def sign_in(page: Any, base: str, username: str, password: str, start: str = "/console") -> None:
    """Sign in through the console's form (``start`` leads to it) and land on the console."""
    page.goto(f"{base}{start}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console")
