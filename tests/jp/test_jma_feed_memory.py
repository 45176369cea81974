"""A big JMA feed is remembered by entry id without churn: with 20,100 entries listed, each
entry is handled once, and later polls of the changing feed take only what is new."""

from __future__ import annotations

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
ENTRIES = 20_100


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[FeedServer]:
    with FeedServer(tmp_path) as server:
        yield server


def _report_fetches(feed: FeedServer) -> int:
    return sum(count for path, count in feed.requests.items() if path.startswith("/feed/x"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_big_feed_is_handled_once(hub: Hub, feed: FeedServer) -> None:
    # Most entries link off http(s): refused without a connection, which keeps the test quick
    # and still has each handled (and counted) once. The last 100 are fetched: reports that
    # are gone (a 404 is handled for good). Short entries keep the feed under the 4 MB limit.
    refused = ENTRIES - 100
    for number in range(ENTRIES):
        link = f"file:///x{number}" if number < refused else f"x{number}"
        feed.add("regular", f"x{number}", "", link=link)
    services = hub.services
    services.publisher.admission = Admission(max_sent_age=0)  # the samples are years old
    # Generous time limits: on a loaded machine a slow answer must not look like a failure
    # (which would rightly be fetched again).
    ingest = JMAIngest(
        services.store,
        services.publisher,
        feed.base_url,
        ("regular",),
        0.01,
        limits=FetchLimits(read_seconds=30, total_seconds=60),
    )
    await ingest.start()
    try:
        await until(lambda: ingest.status()["errors"] >= ENTRIES, seconds=60)
        assert _report_fetches(feed) == 100
        # The JMA rewrites its feeds all the time: each change is a full read of the feed.
        for extra in range(3):
            polls = feed.requests["/feed/regular.xml"]
            feed.add("regular", f"x{ENTRIES + extra}", "", link=f"x{ENTRIES + extra}")

            def polled_again(before: int = polls) -> bool:
                return feed.requests["/feed/regular.xml"] >= before + 3

            await until(polled_again, seconds=30)
        status = ingest.status()
    finally:
        await ingest.stop()
    assert _report_fetches(feed) == 100 + 3  # nothing fetched twice
    assert status["errors"] == ENTRIES + 3  # nor refused twice
    assert status["remembered_entries"] == ENTRIES + 3
