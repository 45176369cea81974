"""The hub app in-process (httpx.ASGITransport) with its lifespan, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertcommons.app import create_app
from alertcommons.delivery.dispatcher import DispatchSettings
from alertcommons.delivery.outbound import LOOPBACK
from alertcommons.hub import bootstrap
from alertcommons.hub.services import Services
from alertcommons.settings import Secret, Settings

ADMIN_TOKEN = "ac_test-admin-token-0123456789abcdefghijklmnop"

# Retries and polls in tens of milliseconds, so a test waits for deliveries briefly.
FAST_DISPATCH = DispatchSettings(retry_base_seconds=0.05, poll_seconds=0.05)


@dataclass
class Hub:
    client: httpx.AsyncClient
    services: Services
    admin: dict[str, str]

    def dispatch_fast(self, **overrides: Any) -> DispatchSettings:
        """The dispatcher on ``FAST_DISPATCH`` (with ``overrides``); the settings in force."""
        settings = replace(FAST_DISPATCH, **overrides)
        self.services.dispatcher.settings = settings
        return settings

    async def org(
        self, name: str, sender: str | None, jurisdiction: list[str], kind: str = "issuer"
    ) -> dict[str, Any]:
        body = {"name": name, "kind": kind, "sender": sender, "jurisdiction": jurisdiction}
        response = await self.client.post("/api/v1/organizations", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        created["headers"] = {"Authorization": f"Bearer {created['token']}"}
        return created

    async def chiyoda(self) -> dict[str, Any]:
        """The issuer most tests publish as: 東京都千代田区 (131016)."""
        return await self.org("東京都千代田区", "city.chiyoda.tokyo.jp", ["131016"])

    async def evacuate(self, city: dict[str, Any], **fields: Any) -> httpx.Response:
        """An evacuation order by ``city`` through the JP API (by default level 4 for a flood
        in 131016; ``action="lift"`` lifts it), asserted created."""
        body = {"municipality": "131016", **(fields or {"level": 4, "hazard": "flood"})}
        response = await self.client.post(
            "/api/v1/jp/evacuation", headers=city["headers"], json=body
        )
        assert response.status_code == 201, response.text
        return response


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_token=Secret(ADMIN_TOKEN),
        max_body_bytes=256 * 1024,
        outbound_allow=LOOPBACK,  # the tests' receivers, SMTP servers and broker are local
        speech_in_cap=0,  # a second of synthesis per message; tests/test_speech.py turns it on
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        services.store.run_write(
            lambda c: bootstrap.initialize(c, admin_token=ADMIN_TOKEN, new_token=False)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Hub(client, services, {"Authorization": f"Bearer {ADMIN_TOKEN}"})


@pytest.fixture
def fast_dispatch(hub: Hub) -> DispatchSettings:
    """The in-process hub's dispatcher on ``FAST_DISPATCH``."""
    return hub.dispatch_fast()
