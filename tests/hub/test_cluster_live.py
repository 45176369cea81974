"""Live events across hub nodes on one PostgreSQL: an alert published through node A reaches
the stream clients of node B — through NATS JetStream, and through the database while NATS is
down — and no stream client loses one when NATS stops and starts again."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Nats, share_keys
from tests.support.pg import fresh_database
from tests.support.server import HubProcess
from tests.support.sse import SSEClient
from tests.support.waiting import until_blocking

ADMIN = "ac_cluster-live-admin-token-0123456789abcdefghij"


@pytest.fixture
def cluster(tmp_path: Path, nats: Nats) -> Iterator[tuple[HubProcess, HubProcess]]:
    env = {
        "ALERTCOMMONS_NATS_URL": nats.url,
        "ALERTCOMMONS_CLUSTER_NAME": f"t{uuid.uuid4().hex[:8]}",
    }
    with fresh_database() as url:
        a = HubProcess(tmp_path / "a", ADMIN, url, env=env)
        a.start()
        b_dir = tmp_path / "b"
        share_keys(a.data_dir, b_dir)  # one cluster, one set of keys
        b = HubProcess(b_dir, ADMIN, url, env=env)
        try:
            b.start()
            yield a, b
        finally:
            a.stop()
            b.stop()


def _live(hub: HubProcess) -> str:
    state: str = httpx.get(f"{hub.url}/healthz").json()["live_events"]
    return state


def _streams(hub: HubProcess) -> float:
    metrics = httpx.get(f"{hub.url}/metrics").text
    found = re.search(r"^alertcommons_stream_clients (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _publish(hub: HubProcess, token: str) -> str:
    body = xml(make_alert("metro.tokyo.jp", ["131016"]))
    response = httpx.post(
        f"{hub.url}/api/v1/alerts",
        content=body,
        headers={"Authorization": f"Bearer {token}", **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


def test_alerts_reach_streams_on_every_node_with_nats_down_and_back(
    cluster: tuple[HubProcess, HubProcess], nats: Nats
) -> None:
    a, b = cluster
    token = a.org("東京都", "issuer", "metro.tokyo.jp", ["13"])["token"]
    until_blocking(lambda: _live(a) == "nats" and _live(b) == "nats", seconds=15)
    on_b = SSEClient(f"{b.url}/api/v1/stream", {"area": "13", "heartbeat": "1"})
    on_a = SSEClient(f"{a.url}/api/v1/stream", {"area": "13", "heartbeat": "1"})
    try:
        until_blocking(lambda: _streams(a) == 1 and _streams(b) == 1)  # both registered
        published = [_publish(a, token), _publish(b, token)]

        nats.stop()
        until_blocking(lambda: _live(a) == "database" and _live(b) == "database", seconds=15)
        published += [_publish(a, token), _publish(b, token)]

        nats.start()
        until_blocking(lambda: _live(a) == "nats" and _live(b) == "nats", seconds=20)
        published += [_publish(a, token)]

        for client in (on_a, on_b):
            seen = [client.next_event(timeout=15)[0] for _ in published]
            assert seen == published or sorted(seen) == sorted(published), seen
            assert len(set(seen)) == len(published)  # each once
    finally:
        on_a.close()
        on_b.close()


def test_a_single_sqlite_hub_needs_no_bus(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "solo", ADMIN)
    hub.start()
    try:
        assert _live(hub) == "local"
    finally:
        hub.stop()
