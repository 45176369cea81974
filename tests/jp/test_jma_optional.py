"""An optional feature never stops the hub from starting: with the JMA feed configured while an
organization already uses the sender ``jma.go.jp``, the hub (a real process) starts, says why
the feed is off, logs a clear warning, and serves everything else."""

from __future__ import annotations

from pathlib import Path

import httpx

from alertcommons.jp.codes import with_check_digit
from tests.support.jma_feed import FeedServer
from tests.support.server import HubProcess

ADMIN = "admin-token-for-jma-optional-tests-0123456789"


def test_jma_sender_taken_keeps_the_hub_up(tmp_path: Path) -> None:
    with FeedServer(tmp_path) as feed:
        hub = HubProcess(tmp_path / "data", ADMIN)
        hub.start()
        try:
            hub.org("気象庁 (imported)", "issuer", "jma.go.jp", ["*"])
            hub.stop()
            hub.extra_env.update(
                {"ALERTCOMMONS_JMA_FEED_URL": feed.base_url, "ALERTCOMMONS_JMA_POLL_SECONDS": "1"}
            )
            hub.start()  # raises if the process exits or never answers
            admin = {"Authorization": f"Bearer {ADMIN}"}
            status = httpx.get(f"{hub.url}/api/v1/jp/jma-feed", headers=admin).json()
            assert status["enabled"] is True and status["running"] is False
            assert "jma.go.jp" in status["problem"]
            assert feed.requests == {}  # not polled: the hub will not speak for another org
            # Everything else works: a municipality publishes.
            city = hub.org("東京都千代田区", "issuer", "city.chiyoda.tokyo.jp", ["131016"])
            published = httpx.post(
                f"{hub.url}/api/v1/jp/evacuation",
                headers={"Authorization": f"Bearer {city['token']}"},
                json={"municipality": with_check_digit("13101"), "level": 3, "hazard": "flood"},
            )
            assert published.status_code == 201, published.text
        finally:
            hub.stop()
    assert "JMA feed ingest not started" in hub.log.read_text()
