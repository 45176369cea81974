"""A hub process with a municipality, its console accounts, and a real webhook receiver."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import browser, shots  # noqa: F401 - fixtures
from tests.support.browser import sign_in as browser_sign_in
from tests.support.pg import fresh_database
from tests.support.receivers import Receiver
from tests.support.server import HubProcess

ADMIN = "admin-token-for-web-tests-0123456789abcdef"
CHIYODA = "city.chiyoda.tokyo.jp"
PASSWORD = "correct horse battery staple"


@dataclass
class Site:
    hub: HubProcess
    receiver: Receiver
    city: dict[str, Any]
    tv: dict[str, Any]

    @property
    def url(self) -> str:
        return self.hub.url

    def api(self, method: str, path: str, token: str = ADMIN, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def user(self, org_id: str, username: str, roles: list[str]) -> str:
        response = self.api(
            "POST",
            f"/api/v1/organizations/{org_id}/users",
            json={
                "username": username,
                "display_name": username,
                "password": PASSWORD,
                "roles": roles,
            },
        )
        assert response.status_code == 201, response.text
        return username

    def sign_in(self, page: Any, username: str, start: str = "/console") -> None:
        """Sign ``username`` (made by ``user``) in on a browser page."""
        browser_sign_in(page, self.url, username, PASSWORD, start)

    def approval(self, org_id: str, on: bool) -> None:
        response = self.api(
            "PATCH", f"/api/v1/organizations/{org_id}", json={"two_person_approval": on}
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """SQLite by default; ``@pytest.mark.parametrize("site", ["postgresql"], indirect=True)``
    runs a test against PostgreSQL instead."""
    with contextlib.ExitStack() as stack:
        url = None
        if getattr(request, "param", "sqlite") == "postgresql":
            url = stack.enter_context(fresh_database())
        yield stack.enter_context(_running_site(tmp_path, url))


@contextlib.contextmanager
def _running_site(tmp_path: Path, database_url: str | None) -> Iterator[Site]:
    with Receiver() as receiver:
        hub = HubProcess(tmp_path / "data", ADMIN, database_url)
        hub.start()
        try:
            city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
            tv = hub.org("テレビ局", "receiver")
            running = Site(hub, receiver, city, tv)
            response = running.api(
                "POST",
                "/api/v1/endpoints",
                token=tv["token"],
                json={
                    "channel": "webhook",
                    "url": receiver.url("/ok/tv"),
                    "label": "テレビ局 L字放送",
                    "filter": {"areas": ["13"]},
                },
            )
            assert response.status_code == 201, response.text
            yield running
        finally:
            hub.stop()
