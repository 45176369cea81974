"""Hostile CAP feeds — huge, entity-laden, of the wrong type, redirecting to another host,
slow — are refused with the reason in the feed's health, and never stop the other feeds; the
health is kept in the database across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alertcommons.app import create_app
from alertcommons.hub import bootstrap
from alertcommons.hub.cap_ingest import CapIngest, CapSource
from alertcommons.hub.jma_fetch import FetchLimits
from alertcommons.hub.services import Services
from alertcommons.settings import Secret, Settings
from alertcommons.store import feed_sources
from tests.support.alerts import make_alert, reference_to, xml
from tests.support.hub import ADMIN_TOKEN, Hub
from tests.support.jma_feed import FeedServer
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
MIYAGI = "pref.miyagi.jp"
ATOM = {"Content-Type": "application/atom+xml"}
ENTITIES = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FeedServer]:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "alert.xml").write_bytes(xml(make_alert(MIYAGI, ["042021"], identifier="good-1")))
    with FeedServer(folder) as running:
        running.add("good", "alert.xml", "good")
        huge = b'<feed xmlns="http://www.w3.org/2005/Atom">' + b" " * (3 * 1024 * 1024)
        running.answers["/feed/huge.xml"] = (200, huge + b"</feed>", ATOM)
        running.answers["/feed/entities.xml"] = (200, ENTITIES, ATOM)
        running.answers["/feed/html.xml"] = (200, b"<html></html>", {"Content-Type": "text/html"})
        running.answers["/feed/json.xml"] = (200, b'{"feed": []}', ATOM)
        elsewhere = {"Location": "http://localhost:9/feed.xml", **ATOM}
        running.answers["/feed/redirect.xml"] = (302, b"", elsewhere)
        running.trickle.add("/feed/slow.xml")
        running.trickle_seconds = 0.1
        yield running


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hostile_feeds_are_refused_and_reported(hub: Hub, server: FeedServer) -> None:
    await hub.org("宮城県", MIYAGI, ["04"])
    names = ("huge", "entities", "html", "json", "redirect", "slow", "good")
    sources = [
        CapSource(name, server.base_url + f"{name}.xml", MIYAGI, allow_unsigned=True)
        for name in names
    ]
    ingest = CapIngest(
        hub.services.store,
        hub.services.publisher,
        sources,
        interval=0.1,
        limits=FetchLimits(read_seconds=0.5, total_seconds=1.0),
    )
    await ingest.start()
    try:

        def health() -> dict[str, dict[str, object]]:
            return {s["name"]: s for s in ingest.status()}

        def settled() -> bool:
            now = health()
            return all(now[n]["last_result"] for n in names) and bool(now["good"]["published"])

        await until(settled, seconds=15)
        status = health()
        # The health is kept in the database as it changes ...
        for _ in range(200):
            kept = await hub.services.store.read(lambda c: feed_sources.load(c, "cap"))
            if kept.get("good", {}).get("published") == 1 and all(
                kept.get(n, {}).get("last_error") for n in names[:-1]
            ):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"health not kept: {kept}")
    finally:
        await ingest.stop()
    # ... so a restarted hub shows what each source did before, before its first poll.
    again = CapIngest(hub.services.store, hub.services.publisher, sources, interval=60)
    await again.restore()
    before = {s["name"]: s for s in again.status()}
    assert before["good"]["published"] == 1
    assert "DOCTYPE" in str(before["entities"]["last_error"]) and before["entities"]["warnings"]
    reasons = {
        "huge": "bytes",
        "entities": "DOCTYPE",
        "html": "text/html",
        "json": "not a feed",
        "redirect": "localhost",
        "slow": "in time",
    }
    for name, reason in reasons.items():
        assert status[name]["last_result"] == "error", (name, status[name])
        assert reason in str(status[name]["last_error"]), (name, status[name]["last_error"])
        assert status[name]["warnings"], name
    assert status["good"]["published"] == 1 and status["good"]["last_result"] in (
        "ok",
        "not-modified",
    )
    held = await hub.client.get("/api/v1/alerts", params={"sender": MIYAGI})
    assert [a["identifier"] for a in held.json()["items"]] == ["good-1"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_folder_is_imported_in_batch(hub: Hub, tmp_path: Path) -> None:
    await hub.org("宮城県", MIYAGI, ["04"])
    folder = tmp_path / "batch"
    folder.mkdir()
    first = make_alert(MIYAGI, ["042021"], identifier="batch-1")
    (folder / "01.xml").write_bytes(xml(first))
    (folder / "02.xml").write_bytes(b"<not-cap/>")
    (folder / "03.xml").write_bytes(b"<alert>" + b" " * (1024 * 1024 + 1) + b"</alert>")
    source = CapSource("batch", "", MIYAGI, allow_unsigned=True, directory=folder)
    ingest = CapIngest(hub.services.store, hub.services.publisher, [source], interval=0.05)
    await ingest.start()
    try:
        await until(lambda: ingest.status()[0]["published"] == 1)
        update = make_alert(
            MIYAGI,
            ["042021"],
            identifier="batch-2",
            msg_type="Update",
            references=reference_to(first),
        )
        (folder / "04.xml").write_bytes(xml(update))
        await until(lambda: ingest.status()[0]["published"] == 2)
        status = ingest.status()[0]
    finally:
        await ingest.stop()
    assert status["refused"] >= 1  # 02.xml is not CAP
    assert any("more than" in w for w in status["warnings"])  # 03.xml is too big
    held = await hub.client.get("/api/v1/alerts", params={"sender": MIYAGI})
    kinds = {a["identifier"]: a["msgType"] for a in held.json()["items"]}
    assert kinds == {"batch-1": "Alert", "batch-2": "Update"}


@pytest.mark.parametrize(
    ("configured", "reason"),
    [
        ("[{", "not JSON"),
        ('[{"name": "x", "organization": "y"}]', "either 'url' or 'directory'"),
        ('[{"name": "x", "url": "http://127.0.0.1:9/", "organization": "y"}]', "certificates"),
    ],
)
async def test_a_hub_starts_without_a_source_it_cannot_use(
    tmp_path: Path, configured: str, reason: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", admin_token=Secret(ADMIN_TOKEN), cap_sources=configured
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        services.store.run_write(
            lambda c: bootstrap.initialize(c, admin_token=ADMIN_TOKEN, new_token=False)
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            assert (await client.get("/healthz")).status_code == 200
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            found = (await client.get("/api/v1/feeds/sources", headers=admin)).json()
    assert found["sources"] == []
    assert any(reason in problem for problem in found["problems"]), found
