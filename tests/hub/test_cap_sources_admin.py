"""CAP sources through the admin API: added, changed, paused and removed at run time, checked
before they are kept (4xx problems, nothing half-written), audited, and polling at once
without a restart; their health in ``/api/v1/feeds/sources`` and in ``/metrics``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from alertcommons.app import create_app
from alertcommons.delivery.outbound import LOOPBACK, OutboundPolicy
from alertcommons.hub import bootstrap
from alertcommons.hub.cap_ingest import CapIngest, CapSource
from alertcommons.hub.services import Services
from alertcommons.settings import Secret, Settings
from alertcommons.store.schema import audit_log
from tests.support.alerts import make_alert, xml
from tests.support.hub import ADMIN_TOKEN, Hub
from tests.support.jma_feed import FeedServer
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
MIYAGI = "pref.miyagi.jp"
PATH = "/api/v1/feeds/sources"
PROBLEM = "application/problem+json"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FeedServer]:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "alert.xml").write_bytes(xml(make_alert(MIYAGI, ["042021"], identifier="run-1")))
    with FeedServer(folder) as running:
        running.add("cap", "alert.xml", "run-1")
        yield running


async def _listed(hub: Hub) -> dict[str, dict[str, Any]]:
    response = await hub.client.get(PATH, headers=hub.admin)
    assert response.status_code == 200, response.text
    return {s["name"]: s for s in response.json()["sources"]}


async def _identifiers(hub: Hub) -> list[str]:
    held = await hub.client.get("/api/v1/alerts", params={"sender": MIYAGI}, headers=hub.admin)
    return [a["identifier"] for a in held.json()["items"]]


async def test_a_source_added_at_run_time_polls_at_once_and_can_be_paused_and_removed(
    hub: Hub, server: FeedServer
) -> None:
    await hub.org("宮城県", MIYAGI, ["04"])
    receiver = await hub.org("放送局", None, [], kind="receiver")
    body = {
        "name": "miyagi",
        "url": server.base_url + "cap.xml",
        "organization": MIYAGI,
        "allow_unsigned": True,
        "poll_seconds": 1,
    }
    refused = await hub.client.post(PATH, json=body, headers=receiver["headers"])
    assert refused.status_code == 403
    created = await hub.client.post(PATH, json=body, headers=hub.admin)
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["origin"] == "api" and source["editable"] and source["active"]
    assert source["poll_seconds"] == 1.0

    async def published() -> bool:
        return await _identifiers(hub) == ["run-1"]

    # No restart: the source is polled, its alert republished.
    await until(published, what="the source added at run time was not polled")
    again = await hub.client.post(PATH, json=body, headers=hub.admin)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM

    async def healthy() -> bool:
        published: int = (await _listed(hub))["miyagi"]["published"]
        return published == 1

    await until(healthy, what="the source's health was not kept")
    health = (await _listed(hub))["miyagi"]
    assert health["last_result"] == "ok" and health["last_duration_ms"] is not None
    assert health["last_success_at"] and health["polled_here"]
    assert health["polled_by"] == hub.services.cap_sources.node  # type: ignore[union-attr]

    metrics = (await hub.client.get("/metrics")).text
    assert 'alertcommons_source_fetches_total{result="ok",source="miyagi"}' in metrics
    assert 'alertcommons_source_alerts_republished_total{source="miyagi"} 1.0' in metrics
    assert 'alertcommons_source_last_success_timestamp_seconds{source="miyagi"}' in metrics

    # Paused: no longer polled here, still listed, with its health.
    paused = await hub.client.patch(
        f"{PATH}/{source['id']}", json={"active": False}, headers=hub.admin
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["active"] is False and paused.json()["published"] == 1
    assert hub.services.cap_sources is not None
    assert "miyagi" not in hub.services.cap_sources.states
    # A change that does not hold leaves the source as it was.
    bad = await hub.client.patch(
        f"{PATH}/{source['id']}", json={"url": "http://10.1.2.3/cap.xml"}, headers=hub.admin
    )
    assert bad.status_code == 422 and "ALERTCOMMONS_OUTBOUND_ALLOW" in bad.json()["detail"]
    assert (await _listed(hub))["miyagi"]["url"] == body["url"]
    resumed = await hub.client.patch(
        f"{PATH}/{source['id']}", json={"active": True, "poll_seconds": 2}, headers=hub.admin
    )
    assert resumed.json()["active"] is True and resumed.json()["poll_seconds"] == 2.0
    assert "miyagi" in hub.services.cap_sources.states

    gone = await hub.client.delete(f"{PATH}/{source['id']}", headers=hub.admin)
    assert gone.status_code == 204
    assert "miyagi" not in hub.services.cap_sources.states
    assert "miyagi" not in await _listed(hub)
    missing = await hub.client.delete(f"{PATH}/{source['id']}", headers=hub.admin)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM

    def actions(connection: Any) -> list[tuple[str, str]]:
        rows = connection.execute(select(audit_log.c.action, audit_log.c.subject))
        return [(row.action, row.subject) for row in rows]

    logged = await hub.services.store.read(actions)
    kept = [a for a, subject in logged if subject == source["id"]]
    assert sorted(kept) == sorted(
        ["source.create", "source.update", "source.update", "source.delete"]
    ), kept


BROKEN_PEM = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"url": "ftp://127.0.0.1/cap.xml"}, 422, "http(s)"),
        ({"url": "http://10.1.2.3/cap.xml"}, 422, "ALERTCOMMONS_OUTBOUND_ALLOW"),
        ({"url": "http://169.254.169.254/latest"}, 422, "ALERTCOMMONS_OUTBOUND_ALLOW"),
        ({"allowed_hosts": ["192.168.0.1"]}, 422, "allowed_hosts"),
        ({"url": "http://user:pw@127.0.0.1/cap.xml"}, 422, "credentials"),
        ({"allow_unsigned": False}, 422, "certificates"),
        ({"certificates": BROKEN_PEM}, 422, "PEM"),
        ({"organization": "nobody.example"}, 422, "not an issuer"),
        ({"url": None}, 422, "either 'url'"),
        ({"directory": "/tmp"}, 422, "either 'url'"),
        ({"url": None, "directory": "/tmp"}, 403, "ALERTCOMMONS_CAP_SOURCE_DIRECTORIES"),
        ({"poll_seconds": 0.01}, 422, "poll_seconds"),
        ({"name": "jma:regular"}, 422, "jma:"),
        ({"colour": "red"}, 422, "colour"),
        ({"url": "http://127.0.0.1:99999/cap.xml"}, 422, "not a URL"),
        ({"url": "http://[::1/cap.xml"}, 422, "not a URL"),
        ({"name": "nul\u0000name"}, 422, "name"),
        ({"organization": "\ud800"}, 422, "organization"),
    ],
)
async def test_a_source_that_does_not_hold_is_refused_with_a_problem(
    hub: Hub, change: dict[str, Any], status: int, words: str
) -> None:
    await hub.org("宮城県", MIYAGI, ["04"])
    await hub.org("放送局", "tv.example", [], kind="receiver")
    body = {
        "name": "checked",
        "url": "http://127.0.0.1:9/cap.xml",
        "organization": MIYAGI,
        "allow_unsigned": True,
        **change,
    }
    # As JSON escapes (a lone surrogate too: httpx's own encoder would refuse to send it).
    raw = json.dumps(body).encode()
    headers = {**hub.admin, "Content-Type": "application/json"}
    response = await hub.client.post(PATH, content=raw, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert words in response.text
    assert "checked" not in await _listed(hub)  # nothing half-written


@asynccontextmanager
async def _hub_with(tmp_path: Path, **settings: Any) -> AsyncIterator[Hub]:
    """An in-process hub with settings of the test's own (the shared fixture's are fixed)."""
    app = create_app(
        Settings(
            data_dir=tmp_path / "data",
            admin_token=Secret(ADMIN_TOKEN),
            outbound_allow=LOOPBACK,
            speech_in_cap=0,
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        services.store.run_write(
            lambda c: bootstrap.initialize(c, admin_token=ADMIN_TOKEN, new_token=False)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Hub(client, services, {"Authorization": f"Bearer {ADMIN_TOKEN}"})


async def test_settings_sources_are_listed_read_only_and_folders_only_where_allowed(
    tmp_path: Path,
) -> None:
    allowed = tmp_path / "imports"
    batch = allowed / "batch"
    batch.mkdir(parents=True)
    (batch / "01.xml").write_bytes(xml(make_alert(MIYAGI, ["042021"], identifier="folder-1")))
    configured = (
        '[{"name": "national", "url": "http://127.0.0.1:9/cap.xml",'
        ' "organization": "pref.miyagi.jp", "allow_unsigned": true}]'
    )
    async with _hub_with(
        tmp_path,
        cap_sources=configured,
        cap_source_directories=str(allowed),
        cap_source_poll_seconds=3600,
    ) as hub:
        await hub.org("宮城県", MIYAGI, ["04"])
        listed = await _listed(hub)
        national = listed["national"]
        assert national["origin"] == "settings" and national["editable"] is False
        assert national["id"] == "settings:national"
        for attempt in (
            hub.client.patch(
                f"{PATH}/settings:national", json={"active": False}, headers=hub.admin
            ),
            hub.client.delete(f"{PATH}/settings:national", headers=hub.admin),
        ):
            response = await attempt
            assert response.status_code == 409, response.text
            assert "settings" in response.json()["detail"]
        taken = {"name": "national", "url": "http://127.0.0.1:9/x.xml", "organization": MIYAGI}
        clash = await hub.client.post(
            PATH, json={**taken, "allow_unsigned": True}, headers=hub.admin
        )
        assert clash.status_code == 409 and "settings" in clash.json()["detail"]

        outside = {"name": "outside", "directory": str(tmp_path), "organization": MIYAGI}
        refused = await hub.client.post(
            PATH, json={**outside, "allow_unsigned": True}, headers=hub.admin
        )
        assert refused.status_code == 403, refused.text
        escape = {**outside, "directory": str(allowed / ".." / ".."), "allow_unsigned": True}
        assert (await hub.client.post(PATH, json=escape, headers=hub.admin)).status_code == 403
        inside = {**outside, "name": "batch", "directory": str(batch), "allow_unsigned": True}
        created = await hub.client.post(PATH, json=inside, headers=hub.admin)
        assert created.status_code == 201, created.text
        assert set(created.json()) == set(national)  # one shape, wherever a source comes from

        async def imported() -> bool:
            return await _identifiers(hub) == ["folder-1"]

        await until(imported, what="the folder added at run time was not imported")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_source_added_here_connects_only_where_the_outbound_policy_allows(
    hub: Hub, server: FeedServer
) -> None:
    """The allow-list holds at connection time too (a name may resolve elsewhere later): a
    source added through the API that reaches a loopback address the hub does not allow is
    refused, with the reason in its health, while a settings source on the same server goes on."""
    await hub.org("宮城県", MIYAGI, ["04"])
    url = server.base_url + "cap.xml"
    added = CapSource("added", url, MIYAGI, allow_unsigned=True, id="01TESTSOURCE0000000000000X")
    configured = CapSource("configured", url, MIYAGI, allow_unsigned=True)
    ingest = CapIngest(
        hub.services.store,
        hub.services.publisher,
        [added, configured],
        interval=0.1,
        outbound=OutboundPolicy(),  # nothing private allowed, loopback included
    )
    await ingest.start()
    try:

        def settled() -> bool:
            now = {s["name"]: s for s in ingest.status()}
            return bool(now["added"]["last_error"]) and now["configured"]["published"] == 1

        await until(settled, what="the sources did not settle")
        status = {s["name"]: s for s in ingest.status()}
    finally:
        await ingest.stop()
    assert "ALERTCOMMONS_OUTBOUND_ALLOW" in str(status["added"]["last_error"])
    assert status["added"]["published"] == 0 and status["added"]["warnings"]
    assert await _identifiers(hub) == ["run-1"]
