"""Dispatch workers woken through NATS by a publish on any node (``hub/wakeup.py``), instead of
finding the new deliveries at their next poll; polling still carries delivery while NATS is
away."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from alertcommons.hub.wakeup import PublishWake
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Nats, Worker, share_keys
from tests.support.pg import fresh_database
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.waiting import until, until_blocking

ADMIN = "ac_wakeup-test-admin-token-0123456789abcdefghijk"


@pytest.mark.anyio
async def test_woken_by_its_clusters_announcements_and_again_after_nats_restarts(
    nats: Nats,
) -> None:
    import nats as nats_client

    woken: list[float] = []
    wake = PublishWake(nats.url, "east", lambda: woken.append(time.monotonic()))
    await wake.start()
    try:
        await until(lambda: wake.connected, what="subscribed")
        woken.clear()  # the wake at connect: whatever was published meanwhile
        client = await nats_client.connect(nats.url, max_reconnect_attempts=-1)
        try:
            await client.publish("west.alerts", b"another cluster's alert")
            await client.publish("east.alerts", b"01J0000000000000000000000")
            await client.flush()
            await until(lambda: len(woken) == 1, what="woken by its own cluster's subject")
            await asyncio.sleep(0.3)
            assert len(woken) == 1  # not by the other cluster's

            nats.stop()
            await until(lambda: not wake.connected, what="the lost connection noticed")
            nats.start()  # the same port: both clients reconnect by themselves
            await until(lambda: wake.connected, seconds=20, what="reconnected")
            await until(lambda: client.is_connected, seconds=20, what="the publisher back")
            woken.clear()
            await client.publish("east.alerts", b"01J0000000000000000000001")
            await client.flush()
            await until(lambda: len(woken) >= 1, what="woken again after the restart")
        finally:
            await client.close()
    finally:
        await wake.stop()


def test_a_worker_that_polls_once_a_minute_sends_a_new_alert_at_once(
    tmp_path: Path, nats: Nats
) -> None:
    env = {
        "ALERTCOMMONS_NATS_URL": nats.url,
        "ALERTCOMMONS_CLUSTER_NAME": f"w{uuid.uuid4().hex[:8]}",
    }
    with fresh_database() as url, Receiver() as receiver:
        node = HubProcess(
            tmp_path / "node", ADMIN, url, env={**env, "ALERTCOMMONS_DISPATCH": "false"}
        )
        node.start()
        worker = None
        try:
            share_keys(node.data_dir, tmp_path / "worker")
            worker = Worker(
                tmp_path / "worker",
                url,
                args=("--poll-seconds", "60"),
                ALERTCOMMONS_NATS_URL=nats.url,
                ALERTCOMMONS_CLUSTER_NAME=env["ALERTCOMMONS_CLUSTER_NAME"],
            )
            until_blocking(lambda: "woken by publishes through NATS" in worker.log.read_text())
            issuer = node.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
            rx = node.org("受信者", "receiver")
            with httpx.Client(base_url=node.url, timeout=30) as client:
                body = {"channel": "webhook", "url": receiver.url("/a")}
                made = client.post(
                    "/api/v1/endpoints",
                    json=body,
                    headers={"Authorization": f"Bearer {rx['token']}"},
                )
                assert made.status_code == 201, made.text
                published = client.post(
                    "/api/v1/alerts",
                    content=xml(make_alert("metro.tokyo.jp", ["131016"])),
                    headers={"Authorization": f"Bearer {issuer['token']}", **CAP_XML},
                )
                assert published.status_code == 201, published.text
            # its next poll is up to a minute away: only the wake-up can bring it this soon
            until_blocking(lambda: receiver.count() >= 1, seconds=15)
        finally:
            if worker is not None:
                worker.stop()
            node.stop()
