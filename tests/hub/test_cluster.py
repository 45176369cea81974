"""A real cluster on this machine: PostgreSQL, a NATS server of the test's own, three hub API
nodes (``serve --no-dispatch``), two ``alertcommons dispatch`` workers, real webhook receivers
and live-stream clients. 20 alerts to 500 endpoints each; one API node and one worker are
SIGKILLed mid-fan-out, and still every (alert, endpoint) pair arrives, and the stream clients
on the surviving nodes see every alert, whichever node it was published through."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Nats, Worker, share_keys
from tests.support.pg import fresh_database
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.sse import SSEClient
from tests.support.waiting import until_blocking

ADMIN = "ac_cluster-test-admin-token-0123456789abcdefghij"
ENDPOINTS = 500
ALERTS = 20
RECEIVERS = 4  # real HTTP servers; the 500 endpoints share them, one path each


class Cluster:
    def __init__(self, nodes: list[HubProcess], workers: list[Worker]) -> None:
        self.nodes, self.workers = nodes, workers


@pytest.fixture
def cluster(tmp_path: Path, nats: Nats) -> Iterator[Cluster]:
    env = {
        "ALERTCOMMONS_NATS_URL": nats.url,
        "ALERTCOMMONS_CLUSTER_NAME": f"t{uuid.uuid4().hex[:8]}",
        "ALERTCOMMONS_DISPATCH": "false",
        "ALERTCOMMONS_LOG_SUMMARY_SECONDS": "0",
    }
    nodes: list[HubProcess] = []
    workers: list[Worker] = []
    with fresh_database() as url:
        try:
            nodes.append(HubProcess(tmp_path / "node0", ADMIN, url, env=env))
            nodes[0].start()  # sets the database up: the others start together after it
            for n in (1, 2):
                share_keys(nodes[0].data_dir, tmp_path / f"node{n}")  # one cluster, one key
                nodes.append(HubProcess(tmp_path / f"node{n}", ADMIN, url, env=env))
            for n in (0, 1):
                share_keys(nodes[0].data_dir, tmp_path / f"worker{n}")

            def start_worker(n: int) -> None:
                # woken through NATS by a publish on any node, as the nodes' streams are
                workers.append(
                    Worker(
                        tmp_path / f"worker{n}",
                        url,
                        lease_seconds=2,
                        ALERTCOMMONS_NATS_URL=env["ALERTCOMMONS_NATS_URL"],
                        ALERTCOMMONS_CLUSTER_NAME=env["ALERTCOMMONS_CLUSTER_NAME"],
                    )
                )

            with ThreadPoolExecutor(4) as pool:
                started = [pool.submit(node.start) for node in nodes[1:]]
                started += [pool.submit(start_worker, n) for n in (0, 1)]
                for future in started:
                    future.result()
            yield Cluster(nodes, workers)
        finally:
            for worker in workers:
                worker.stop()
            for node in nodes:
                node.stop()


def _streams(node: HubProcess) -> float:
    found = re.search(r"^alertcommons_stream_clients (\S+)$", _metrics(node), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _metrics(node: HubProcess) -> str:
    return httpx.get(f"{node.url}/metrics", timeout=10).text


def _live(node: HubProcess) -> str:
    state: str = httpx.get(f"{node.url}/healthz", timeout=10).json()["live_events"]
    return state


def test_every_pair_arrives_with_a_node_and_a_worker_killed_mid_fan_out(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.nodes
    until_blocking(lambda: all(_live(node) == "nats" for node in cluster.nodes), seconds=30)
    issuer = a.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
    receiver_org = b.org("受信者", "receiver")
    receivers = [Receiver() for _ in range(RECEIVERS)]
    for receiver in receivers:
        receiver.__enter__()
    on_a = SSEClient(f"{a.url}/api/v1/stream", {"area": "13"})
    on_b = SSEClient(f"{b.url}/api/v1/stream", {"area": "13"})
    try:
        headers = {"Authorization": f"Bearer {receiver_org['token']}"}
        paths = [(receivers[n % RECEIVERS].port, f"/ok/e{n}") for n in range(ENDPOINTS)]

        def register(share: int) -> None:  # a sixth of the endpoints, through one node
            node = cluster.nodes[share % 3]
            with httpx.Client(base_url=node.url, headers=headers, timeout=30) as client:
                for port, path in paths[share::6]:
                    body = {"channel": "webhook", "url": f"http://127.0.0.1:{port}{path}"}
                    created = client.post("/api/v1/endpoints", json=body)
                    assert created.status_code == 201, created.text

        with ThreadPoolExecutor(6) as pool:
            for future in [pool.submit(register, share) for share in range(6)]:
                future.result()
        until_blocking(lambda: _streams(a) == 1 and _streams(b) == 1)

        publish = {"Authorization": f"Bearer {issuer['token']}", **CAP_XML}
        published: list[str] = []

        def send(node: HubProcess) -> None:
            alert = xml(make_alert("metro.tokyo.jp", ["131016"]))
            response = httpx.post(
                f"{node.url}/api/v1/alerts", content=alert, headers=publish, timeout=30
            )
            assert response.status_code == 201, response.text
            assert response.json()["deliveries"] == ENDPOINTS
            published.append(response.json()["id"])

        for node in itertools.islice(itertools.cycle(cluster.nodes), 14):
            send(node)  # through all three: c's too, before it dies

        def arrived() -> set[tuple[str, int, str]]:
            return {
                (item.headers["webhook-id"], receiver.port, item.path)
                for receiver in receivers
                for item in list(receiver.received)
            }

        until_blocking(lambda: len(arrived()) >= 1000, seconds=60)
        c.kill()  # an API node: its streams and requests end with no goodbye
        cluster.workers[0].kill()  # a worker with deliveries claimed and half sent
        for node in itertools.islice(itertools.cycle((a, b)), ALERTS - 14):
            send(node)

        wanted = {(alert, port, path) for alert in published for port, path in paths}
        assert len(wanted) == ALERTS * ENDPOINTS
        until_blocking(lambda: wanted <= arrived(), seconds=120, what="pairs missing")

        for client in (on_a, on_b):
            seen = {client.next_event(timeout=30)[0] for _ in published}
            assert seen == set(published)
        assert a.process is not None and a.process.poll() is None
        assert cluster.workers[1].process.poll() is None
    finally:
        on_a.close()
        on_b.close()
        for receiver in receivers:
            receiver.__exit__()
