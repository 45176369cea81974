"""What an operator's probes and scrapers get: /livez, /readyz, /metrics."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.server import HubProcess, free_port
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
ADMIN = "ac_operations-admin-token-0123456789abcdefghijklm"


async def test_probes_and_metrics_tell_what_happened(hub: Hub) -> None:
    assert (await hub.client.get("/livez")).json() == {"status": "ok"}
    ready = await hub.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}

    hub.dispatch_fast()
    city = await hub.org("千代田区", "city.chiyoda.lg.jp", ["13101"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    with Receiver() as receiver:
        body = {"channel": "webhook", "url": receiver.url("/ok/tv")}
        assert (
            await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        ).status_code == 201
        alert = xml(make_alert("city.chiyoda.lg.jp", ["131016"]))
        published = await hub.client.post(
            "/api/v1/alerts", content=alert, headers={**city["headers"], **CAP_XML}
        )
        assert published.status_code == 201
        await until(lambda: len(receiver.received) == 1)

    async def scraped() -> str:
        response = await hub.client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    await until(
        lambda: _has(
            scraped, 'alertcommons_deliveries_total{channel="webhook",result="delivered"} 1.0'
        )
    )
    text = await scraped()
    assert 'alertcommons_publishes_total{result="stored"} 1.0' in text
    assert "alertcommons_publish_to_delivery_seconds_count" in text
    assert "alertcommons_queue_depth 0.0" in text
    assert "alertcommons_stream_clients 0.0" in text


async def _has(scrape: object, line: str) -> bool:
    text: str = await scrape()  # type: ignore[operator]
    return line in text


def test_readyz_says_what_is_missing(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    hub = HubProcess(
        tmp_path / "data", ADMIN, env={"ALERTCOMMONS_NATS_URL": f"nats://127.0.0.1:{closed}"}
    )
    hub.start()
    try:
        ready = httpx.get(f"{hub.url}/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert ready.json()["checks"] == {"database": "ok", "nats": "unreachable"}
        assert httpx.get(f"{hub.url}/livez").status_code == 200
    finally:
        hub.stop()
