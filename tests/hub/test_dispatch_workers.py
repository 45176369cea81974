"""Dispatch in processes of its own: API nodes started with --no-dispatch, two
`alertcommons dispatch` workers on one PostgreSQL. One worker is killed mid-fan-out and every
(alert, endpoint) pair still arrives; an endpoint changed through the API is used at once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Worker, share_keys
from tests.support.pg import fresh_database
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

ADMIN = "ac_dispatch-workers-admin-token-0123456789abcdefg"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[HubProcess, list[Worker]]]:
    with fresh_database() as url:
        api = HubProcess(tmp_path / "api", ADMIN, url, env={"ALERTCOMMONS_DISPATCH": "false"})
        api.start()
        workers: list[Worker] = []
        try:
            for n in range(2):
                directory = tmp_path / f"worker{n}"
                share_keys(api.data_dir, directory)
                workers.append(Worker(directory, url))
            yield api, workers
        finally:
            for worker in workers:
                worker.stop()
            api.stop()


def test_workers_deliver_everything_when_one_is_killed(
    cluster: tuple[HubProcess, list[Worker]],
) -> None:
    api, workers = cluster
    issuer = api.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
    rx = api.org("受信者", "receiver")
    headers = {"Authorization": f"Bearer {rx['token']}"}
    with Receiver() as receiver, httpx.Client(base_url=api.url, timeout=30) as client:
        endpoint_ids = []
        for n in range(40):
            body = {"channel": "webhook", "url": receiver.url(f"/slow/e{n}")}
            response = client.post("/api/v1/endpoints", json=body, headers=headers)
            assert response.status_code == 201, response.text
            endpoint_ids.append(response.json()["id"])
        alerts = []
        publish = {"Authorization": f"Bearer {issuer['token']}", **CAP_XML}
        for _ in range(10):
            alert = xml(make_alert("metro.tokyo.jp", ["131016"]))
            response = client.post("/api/v1/alerts", content=alert, headers=publish)
            assert response.status_code == 201 and response.json()["deliveries"] == 40
            alerts.append(response.json()["id"])
        until_blocking(lambda: len(receiver.received) >= 20)
        workers[0].process.send_signal(signal.SIGKILL)  # mid-fan-out, leases held
        wanted = {(a, f"/slow/e{n}") for a in alerts for n in range(40)}

        def got() -> set[tuple[str, str]]:
            return {(r.headers["webhook-id"], r.path) for r in receiver.received}

        until_blocking(lambda: wanted <= got(), seconds=60)
        assert api.process is not None and api.process.poll() is None

        # A new URL for one endpoint, changed through the API node: the worker uses it.
        changed = client.patch(
            f"/api/v1/endpoints/{endpoint_ids[0]}",
            json={"url": receiver.url("/ok/moved")},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        alert = xml(make_alert("metro.tokyo.jp", ["131016"]))
        late = client.post("/api/v1/alerts", content=alert, headers=publish).json()["id"]
        until_blocking(lambda: (late, "/ok/moved") in got(), seconds=30)
        assert (late, "/slow/e0") not in got()
