"""JMA feed ingest end to end: a local feed server publishes the 2011-03-11 tsunami warning;
the hub (its own process) polls the feed, converts the report, publishes it as the JMA, and a
receiver subscribed to 石巻市 by its local-government code gets the CAP over a webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertcommons.cap import read_alert
from alertcommons.jp.codes import with_check_digit
from alertcommons.jp.national import requests_activation
from tests.support.jma_feed import FeedServer
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

ADMIN = "admin-token-for-jma-feed-tests-0123456789"
FIRST = "32-39_11_02_250206_VTSE41.xml"  # 14:49 大津波警報 for Iwate, Miyagi, Fukushima
SECOND = "32-39_11_06_250206_VTSE41.xml"  # 14:53 the same event, re-issued
NOT_AN_ALERT = "01_01_01_091210_VGSK50.xml"  # a forecast: skipped


@pytest.fixture
def feed(shared_data: Path) -> Iterator[FeedServer]:
    with FeedServer(shared_data / "jma-samples") as server:
        yield server


def test_feed_entry_reaches_municipality_receiver(
    tmp_path: Path, feed: FeedServer, receiver: Receiver
) -> None:
    hub = HubProcess(
        tmp_path / "data",
        ADMIN,
        env={
            "ALERTCOMMONS_JMA_FEED_URL": feed.base_url,
            "ALERTCOMMONS_JMA_FEEDS": "eqvol,extra",
            "ALERTCOMMONS_JMA_POLL_SECONDS": "0.2",
            # the sample reports are from 2011: admit them whatever their age
            "ALERTCOMMONS_MAX_SENT_AGE_SECONDS": "0",
        },
    )
    hub.start()
    try:
        rx = hub.org("石巻市防災行政無線", "receiver")
        for path, code in (("/ok/ishinomaki", "04202"), ("/ok/nagano", "20201")):
            response = httpx.post(
                f"{hub.url}/api/v1/endpoints",
                headers={"Authorization": f"Bearer {rx['token']}"},
                json={
                    "channel": "webhook",
                    "url": receiver.url(path),
                    "filter": {"areas": [with_check_digit(code)]},
                },
            )
            assert response.status_code == 201, response.text
        # The poller asks conditionally: an unchanged feed is answered 304.
        until_blocking(lambda: feed.not_modified >= 2, 20, what="no conditional GET seen")

        feed.add("eqvol", "no-such-report.xml", "gone")  # 404: passed over, not retried forever
        feed.add("eqvol", NOT_AN_ALERT, "府県天気予報")
        feed.add("eqvol", FIRST, "津波警報・注意報・予報a")
        until_blocking(lambda: len(receiver.for_path("/ok/ishinomaki")) >= 1, 20)
        got = receiver.for_path("/ok/ishinomaki")[0]
        latency_ms = (got.at - feed.added_at[FIRST]) * 1000
        print(f"feed entry → webhook delivery: {latency_ms:.0f} ms (poll every 200 ms)")
        first = read_alert(got.body).alert
        assert first.sender == "jma.go.jp" and first.status == "Actual"
        assert first.msg_type == "Alert"
        assert first.infos[0].event == "大津波警報" and first.infos[0].severity == "Extreme"
        assert "040002" in {g.value for i in first.infos for a in i.areas for g in a.geocodes}
        assert requests_activation(first)  # 大津波警報: loudspeakers start, top priority

        # The same event, re-issued: an Update that references the first alert exactly.
        feed.add("eqvol", SECOND, "津波警報・注意報・予報a")
        until_blocking(lambda: len(receiver.for_path("/ok/ishinomaki")) >= 2, 20)
        second = read_alert(receiver.for_path("/ok/ishinomaki")[1].body).alert
        assert second.msg_type == "Update"
        assert second.references == f"jma.go.jp,{first.identifier},{first.sent}"

        # The same report in another feed, after that feed failed twice: not fetched again.
        before = feed.requests["/feed/extra.xml"]
        feed.fail_next["/feed/extra.xml"] = 2
        feed.add("extra", FIRST, "津波警報・注意報・予報a")
        until_blocking(lambda: feed.requests["/feed/extra.xml"] >= before + 4, 20)
        assert feed.requests[f"/data/{FIRST}"] == 1

        def status() -> dict[str, Any]:
            response = httpx.get(
                f"{hub.url}/api/v1/jp/jma-feed", headers={"Authorization": f"Bearer {ADMIN}"}
            )
            assert response.status_code == 200
            found: dict[str, Any] = response.json()
            return found

        first_run = status()
        assert first_run["enabled"] is True
        assert first_run["published"] == 2 and first_run["skipped"] == 1
        assert first_run["errors"] == 1  # the missing report
        assert feed.requests["/data/no-such-report.xml"] == 1
        assert first_run["median_ms_to_publish"] is not None

        # A restart forgets the entries it handled; the hub's own records stop a second send.
        hub.stop()
        hub.start()
        until_blocking(lambda: status()["duplicates"] >= 2, 20, what=str(status()))
        time.sleep(0.5)
        assert status()["published"] == 0
        assert len(receiver.for_path("/ok/ishinomaki")) == 2
        assert receiver.for_path("/ok/nagano") == []  # inland Nagano: not in the warning
    finally:
        hub.stop()
