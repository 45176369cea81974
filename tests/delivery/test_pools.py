"""One slow SMTP server cannot starve password hashing or MQTT: each kind of blocking work
has its own thread pool (``alertcommons.pools``), and one server only a few of its threads.

Issue 11 row 8: two email endpoints on a server answering one byte every 5 s held every
thread of the shared pool; a console sign-in took 66.7 s, another receiver's MQTT delivery
76.7 s.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber
from tests.support.services import need
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
TOKYO = "metro.tokyo.jp"


class Trickle:
    """An 'SMTP server' that sends its greeting one byte every 2 s, for ever."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                writer.write(b"2")
                await writer.drain()
                await asyncio.sleep(2)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self._greet, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server


@pytest.fixture
async def trickle() -> AsyncIterator[Trickle]:
    slow = Trickle()
    server = await slow.start()
    yield slow
    server.close()
    for writer in slow._writers:
        writer.close()


async def _publish(hub: Hub, issuer: dict[str, Any]) -> str:
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(TOKYO, ["131016"])),
        headers={**issuer["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def test_slow_smtp_server_starves_neither_sign_in_nor_mqtt(
    hub: Hub, trickle: Trickle
) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    hub.dispatch_fast(retry_base_seconds=30)
    issuer = await hub.org("東京都", TOKYO, ["13"])
    residents = await hub.org("住民メール", None, [], kind="receiver")
    for n in range(2):
        body = {
            "channel": "email",
            "to": [f"list{n}@example.jp"],
            "smtp_host": "127.0.0.1",
            "smtp_port": trickle.port,
        }
        response = await hub.client.post(
            "/api/v1/endpoints", json=body, headers=residents["headers"]
        )
        assert response.status_code == 201
    for _ in range(4):  # 8 email sends, each stuck on the trickling greeting
        await _publish(hub, issuer)
    await until(lambda: trickle.connections >= 4)

    # Another receiver's MQTT delivery goes out at once.
    signage = await hub.org("Signage", None, [], kind="receiver")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    endpoint = {"channel": "mqtt", "host": "127.0.0.1", "port": 1883, "topic_prefix": prefix}
    response = await hub.client.post("/api/v1/endpoints", json=endpoint, headers=signage["headers"])
    assert response.status_code == 201
    live = Subscriber(f"{prefix}/alert/+")
    try:
        started = time.monotonic()
        alert_id = await _publish(hub, issuer)
        await until(lambda: f"{prefix}/alert/{alert_id}" in live.topics, seconds=5)
        assert time.monotonic() - started < 5
    finally:
        live.stop()

    # Password hashing (a console account; sign-in checks use the same pool) is prompt.
    started = time.monotonic()
    created = await asyncio.wait_for(
        hub.client.post(
            f"/api/v1/organizations/{issuer['id']}/users",
            json={
                "username": "bousai-officer",
                "display_name": "防災担当",
                "password": "a long enough password",
                "roles": ["drafter"],
            },
            headers=hub.admin,
        ),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert time.monotonic() - started < 2
    # The slow server holds at most 4 of the SMTP pool's threads, never more.
    assert trickle.connections == 4
