"""One bad JMA feed entry never blocks the entries after it, and no link leads outside the
feed's host. A local feed server (real HTTP) lists, before two real warnings: a report that
answers 500, one that redirects to ``file://``, a ``file://`` link, a link to another host, a
report trickling one byte every five seconds, and an entry whose ``<updated>`` has no offset.
The warnings are published at once; the broken entries are retried on their own schedule, and
the links off the feed's host are never opened."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alertcommons.hub.admission import Admission
from alertcommons.hub.jma_fetch import FetchLimits
from alertcommons.hub.jma_ingest import JMAIngest
from tests.support.hub import Hub
from tests.support.jma_feed import FeedServer
from tests.support.waiting import until

pytestmark = pytest.mark.anyio

RAIN = "15_17_01_241226_VPWW55.xml"  # 松江: 大雨警報
WIND = "15_16_04_241226_VPWW58.xml"  # 稚内: 暴風警報
LIMITS = FetchLimits(read_seconds=1.0, total_seconds=2.0)


@pytest.fixture
def reports(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in (RAIN, WIND):
        shutil.copy(shared_data / "jma-samples" / name, folder / name)
    return folder


@pytest.fixture
def feed(reports: Path) -> Iterator[FeedServer]:
    with FeedServer(reports) as server:
        yield server


@pytest.fixture
def elsewhere(reports: Path) -> Iterator[FeedServer]:
    """The same reports on another host (127.0.0.2, also this machine's loopback)."""
    with FeedServer(reports, host="127.0.0.2") as server:
        yield server


def _ingest(hub: Hub, feed: FeedServer, **options: object) -> JMAIngest:
    # The samples are years old: the hub's freshness check is off, as for an archive replay
    # (ALERTCOMMONS_MAX_SENT_AGE_SECONDS=0).
    hub.services.publisher.admission = Admission(max_sent_age=0)
    return JMAIngest(
        hub.services.store,
        hub.services.publisher,
        feed.base_url,
        ("regular",),
        0.05,
        limits=LIMITS,
        **options,  # type: ignore[arg-type]
    )


async def test_bad_entries_never_block_the_later_warnings(
    hub: Hub, feed: FeedServer, elsewhere: FeedServer
) -> None:
    feed.answers["/data/broken.xml"] = (500, b"oops", {})
    feed.answers["/data/moved.xml"] = (302, b"", {"Location": "file:///etc/hostname"})
    feed.trickle.add("/data/trickle.xml")
    feed.add("regular", "broken.xml", updated="2026-01-01T00:00:00Z")
    feed.add("regular", "moved.xml", updated="2026-01-01T00:01:00Z")
    feed.add("regular", "local.xml", updated="2026-01-01T00:02:00Z", link="file:///etc/hostname")
    feed.add("regular", "other.xml", updated="2026-01-01T00:03:00Z", link=elsewhere.data_url(WIND))
    feed.add("regular", "trickle.xml", updated="2026-01-01T00:04:00Z")
    feed.add("regular", RAIN, updated="2026-01-01T09:05:00")  # no offset: read as UTC
    feed.add("regular", WIND, updated="2026-01-01T00:06:00Z")
    ingest = _ingest(hub, feed)
    started = time.monotonic()
    await ingest.start()
    try:
        await until(lambda: ingest.status()["published"] >= 2, seconds=10)
        took = time.monotonic() - started
        # The bad entries are retried on their own schedule while the feed goes on.
        await until(lambda: feed.requests["/data/broken.xml"] >= 3, seconds=10)
        status = ingest.status()
    finally:
        await ingest.stop()
    print(f"later warnings published {took:.1f} s after the first poll")
    assert took < LIMITS.total_seconds + 2  # one fetch's limit at most, not one per bad entry
    assert status["published"] == 2 and status["feeds"][0]["failing"] == 0
    retrying = {item["url"].rsplit("/", 1)[-1] for item in status["retrying"]}
    assert retrying >= {"broken.xml"}
    assert feed.requests["/data/trickle.xml"] >= 1
    # Refused for good, never opened: a redirect off http(s), file://, another host.
    assert feed.requests["/data/moved.xml"] == 1
    assert elsewhere.requests == {}
    assert status["errors"] == 3
    headlines = await hub.client.get(
        "/api/v1/alerts", params={"sender": "jma.go.jp", "active": "true"}
    )
    offices = {a["alert"]["info"][0]["senderName"] for a in headlines.json()["items"]}
    assert offices == {"松江地方気象台", "稚内地方気象台"}


async def test_an_allowed_host_and_same_host_redirects_are_followed(
    hub: Hub, feed: FeedServer, elsewhere: FeedServer
) -> None:
    feed.answers["/data/moved.xml"] = (301, b"", {"Location": f"/data/{RAIN}"})
    feed.add("regular", "moved.xml")
    feed.add("regular", "other.xml", link=elsewhere.data_url(WIND))
    ingest = _ingest(hub, feed, allowed_hosts=("127.0.0.2",))
    await ingest.start()
    try:
        await until(lambda: ingest.status()["published"] >= 2, seconds=10)
    finally:
        await ingest.stop()
    assert feed.requests[f"/data/{RAIN}"] == 1 and elsewhere.requests[f"/data/{WIND}"] == 1
