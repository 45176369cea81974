"""The JMA feeds report as the CAP sources do: in ``/api/v1/feeds/sources`` with the same
fields, in ``/metrics`` under the same names with a ``source`` label, and their health kept in
the database across restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from alertcommons.hub.admission import Admission
from alertcommons.hub.jma_ingest import JMAIngest
from tests.support.hub import Hub
from tests.support.jma_feed import FeedServer
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TSUNAMI = "32-39_11_02_250206_VTSE41.xml"  # 大津波警報 for Iwate, Miyagi, Fukushima


@pytest.fixture
def feed(shared_data: Path) -> Iterator[FeedServer]:
    with FeedServer(shared_data / "jma-samples") as server:
        yield server


def _ingest(hub: Hub, feed: FeedServer) -> JMAIngest:
    return JMAIngest(
        hub.services.store,
        hub.services.publisher,
        feed.base_url,
        ("eqvol",),
        0.1,
        metrics=hub.services.metrics,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_jma_feeds_report_like_every_source(hub: Hub, feed: FeedServer) -> None:
    hub.services.publisher.admission = Admission(max_sent_age=0)  # the sample is from 2011
    await hub.org("宮城県", "pref.miyagi.jp", ["04"])
    cap = {
        "name": "other-hub",
        "url": "http://127.0.0.1:9/cap.xml",
        "organization": "pref.miyagi.jp",
        "allow_unsigned": True,
    }
    assert (await hub.client.post("/api/v1/feeds/sources", json=cap, headers=hub.admin)).is_success
    feed.add("eqvol", "no-such-report.xml", "gone")
    feed.add("eqvol", TSUNAMI, "津波警報・注意報・予報a")
    ingest = _ingest(hub, feed)
    hub.services.jma = ingest
    await ingest.start()

    async def listed() -> dict[str, dict[str, object]]:
        response = await hub.client.get("/api/v1/feeds/sources", headers=hub.admin)
        return {s["name"]: s for s in response.json()["sources"]}

    async def settled() -> bool:
        jma = (await listed()).get("jma:eqvol", {})
        return jma.get("published") == 1 and jma.get("refused") == 1

    try:
        await until(settled, seconds=20, what="the JMA feed's health did not show its reports")
    finally:
        await ingest.stop()
    sources = await listed()
    jma, other = sources["jma:eqvol"], sources["other-hub"]
    assert set(jma) == set(other)  # one shape for every source
    assert jma["kind"] == "jma" and jma["origin"] == "settings" and jma["editable"] is False
    assert jma["last_result"] in ("ok", "not-modified") and jma["last_success_at"]
    warnings = cast("list[object]", jma["warnings"])
    assert any("HTTP 404" in str(w) for w in warnings)

    metrics = (await hub.client.get("/metrics")).text
    assert 'alertcommons_source_fetches_total{result="ok",source="jma:eqvol"}' in metrics
    assert 'alertcommons_source_alerts_republished_total{source="jma:eqvol"} 1.0' in metrics
    assert (
        'alertcommons_source_alerts_refused_total{reason="gone",source="jma:eqvol"} 1.0' in metrics
    )
    assert 'alertcommons_source_last_success_timestamp_seconds{source="jma:eqvol"}' in metrics

    # Kept across a restart: a new ingest shows what the feed did before.
    again = _ingest(hub, feed)
    again.interval = 3600
    hub.services.jma = again
    await again.start()
    try:
        restored = (await listed())["jma:eqvol"]
        assert restored["published"] == 1 and restored["refused"] == 1
    finally:
        await again.stop()
