"""Two hub processes on one PostgreSQL: a CAP source added through one node starts on both
without a restart, only one node polls it at a time (the lease), its alerts are republished
once, and when that node stops the other takes the source over."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.alerts import make_alert, xml
from tests.support.jma_feed import FeedServer
from tests.support.pg import fresh_database
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

ADMIN = "ac_sources-nodes-admin-token-0123456789abcdefghij"
MIYAGI = "pref.miyagi.jp"
FAST = {"ALERTCOMMONS_CAP_SOURCE_RELOAD_SECONDS": "0.2"}


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _get(node: HubProcess, path: str, **params: str) -> Any:
    response = httpx.get(
        node.url + path, params=params, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def _source(node: HubProcess) -> dict[str, Any]:
    listed = {s["name"]: s for s in _get(node, "/api/v1/feeds/sources")["sources"]}
    found: dict[str, Any] = listed.get("miyagi", {})
    return found


def _identifiers(node: HubProcess) -> list[str]:
    return sorted(a["identifier"] for a in _get(node, "/api/v1/alerts", sender=MIYAGI)["items"])


def test_two_nodes_share_the_sources_and_poll_each_one_once(
    database_url: str, tmp_path: Path
) -> None:
    a = HubProcess(tmp_path / "a", ADMIN, database_url=database_url, env=FAST)
    b = HubProcess(tmp_path / "b", ADMIN, database_url=database_url, env=FAST)
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "one.xml").write_bytes(xml(make_alert(MIYAGI, ["042021"], identifier="node-1")))
    with FeedServer(feeds) as server:
        server.add("cap", "one.xml", "node-1")
        a.start()
        try:
            (tmp_path / "b").mkdir()
            for shared in ("audit-key", "secrets-key"):  # one cluster: the same keys
                shutil.copy2(a.data_dir / shared, b.data_dir / shared)
            b.start()
            a.org("宮城県", "issuer", MIYAGI, ["04"])
            body = {
                "name": "miyagi",
                "url": server.base_url + "cap.xml",
                "organization": MIYAGI,
                "allow_unsigned": True,
                "poll_seconds": 1,
            }
            created = httpx.post(
                f"{a.url}/api/v1/feeds/sources",
                json=body,
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=10,
            )
            assert created.status_code == 201, created.text

            # Both nodes know the source; one polls it, and both show what it did.
            until_blocking(
                lambda: _source(a).get("published") == 1 and _source(b).get("published") == 1,
                seconds=30,
                what="the source's health did not reach both nodes",
            )
            until_blocking(
                lambda: server.requests["/feed/cap.xml"] >= 4,
                seconds=30,
                what="the source was not polled again",
            )
            here = {"a": _source(a)["polled_here"], "b": _source(b)["polled_here"]}
            assert sorted(here.values()) == [False, True], here
            assert _source(a)["polled_by"] == _source(b)["polled_by"] is not None
            # One node fetched the alert, once; it is held once.
            assert server.requests["/data/one.xml"] == 1, server.requests
            assert _identifiers(a) == _identifiers(b) == ["node-1"]

            # The polling node stops: the other takes the source over and goes on.
            holder, other = (a, b) if here["a"] else (b, a)
            holder.stop()
            (feeds / "two.xml").write_bytes(
                xml(make_alert(MIYAGI, ["042021"], identifier="node-2"))
            )
            server.add("cap", "two.xml", "node-2")
            until_blocking(
                lambda: _identifiers(other) == ["node-1", "node-2"],
                seconds=30,
                what="the other node did not take the source over",
            )
            taken = _source(other)
            assert taken["polled_here"] is True
            assert taken["published"] == 2  # the health went on from where it was
            assert taken["duplicates"] >= 1  # node-1 seen again, not republished
        finally:
            b.stop()
            a.stop()
