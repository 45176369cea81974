"""Outbound requests only where an operator allows: by default, never to loopback, private,
link-local, unspecified, multicast or reserved addresses, however they are spelled; checked
when connecting, on the address the name resolves to; errors that map nothing.

Issue 10 row 6: webhooks to 127.0.0.1, localhost, [::1], 0.0.0.0, 2130706433, user@127.0.0.1,
169.254.169.254 and 10.0.0.1 were accepted and POSTed to; an email endpoint showed a loopback
service's banner in ``last_error``; refused and timed-out connections read differently.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertcommons.delivery.outbound import UNDELIVERABLE, OutboundPolicy
from alertcommons.settings import Settings, SettingsError
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber
from tests.support.receivers import Receiver
from tests.support.server import HubProcess, free_port
from tests.support.services import need
from tests.support.smtp import Inbox, smtp_server

ADMIN = "ac_outbound-test-admin-token-0123456789abcdefghij"
TOKYO = "metro.tokyo.jp"

REFUSED_URLS = [
    "http://127.0.0.1/x",
    "http://localhost/x",
    "http://app.localhost/x",
    "http://[::1]/x",
    "http://0.0.0.0/x",
    "http://2130706433/x",
    "http://0x7f000001/x",
    "http://0177.0.0.1/x",
    "http://127.1/x",
    "http://１２７.０.０.１/x",  # noqa: RUF001 - full-width digits, on purpose
    "http://LOCALHOST./x",
    "http://user@127.0.0.1/x",
    "http://receiver.example@10.0.0.1/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/x",
    "http://192.168.1.1/x",
    "http://172.16.0.1/x",
    "http://100.64.0.1/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:a9fe:a9fe]/x",
    "http://[fe80::1]/x",
    "http://[fc00::1]/x",
    "http://[::]/x",
    "http://224.0.0.1/x",
    "http://240.0.0.1/x",
    "http://255.255.255.255/x",
    "http://[64:ff9b::7f00:1]/x",
]


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def default_hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A real hub with the default policy: nothing beyond public addresses allowed."""
    hub = HubProcess(tmp_path / "data", ADMIN, env={"ALERTCOMMONS_OUTBOUND_ALLOW": ""})
    hub.start()
    yield hub
    hub.stop()


def _loopback_name() -> str:
    """A name (not a literal, not ``localhost``) that resolves to this machine's loopback."""
    name = socket.gethostname()
    addresses = {str(info[4][0]) for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    if not addresses or not all(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip(f"the host name {name!r} does not resolve to loopback here")
    return name


def test_registration_refuses_every_spelling_of_a_refused_address(
    default_hub: HubProcess,
) -> None:
    rx = default_hub.org("Receivers", "receiver")
    headers = {"Authorization": f"Bearer {rx['token']}"}
    bodies: list[dict[str, Any]] = [{"channel": "webhook", "url": url} for url in REFUSED_URLS]
    bodies += [
        {"channel": "email", "to": ["a@example.jp"], "smtp_host": host, "smtp_port": 25}
        for host in ("127.0.0.1", "localhost", "::1", "2130706433", "10.1.2.3")
    ]
    bodies += [{"channel": "mqtt", "host": host} for host in ("127.0.0.1", "localhost", "[::1]")]
    with httpx.Client(base_url=default_hub.url, headers=headers) as client:
        for body in bodies:
            response = client.post("/api/v1/endpoints", json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
        # A public name is accepted: whether it may be reached is decided when connecting.
        public = client.post(
            "/api/v1/endpoints", json={"channel": "webhook", "url": "https://receiver.example/x"}
        )
        assert public.status_code == 201, public.text


def test_connect_time_check_on_the_resolved_address(
    default_hub: HubProcess, receiver: Receiver, smtp: tuple[int, Inbox]
) -> None:
    """A name that passes registration but resolves to loopback (DNS rebinding looks just
    like this) is never connected to, on any channel; the error says nothing more."""
    need("Mosquitto", "127.0.0.1", 1883)
    name = _loopback_name()
    smtp_port, inbox = smtp
    issuer = default_hub.org("東京都", "issuer", TOKYO, ["13"])
    rx = default_hub.org("Receivers", "receiver")
    headers = {"Authorization": f"Bearer {rx['token']}"}
    prefix = f"outbound-{time.time_ns()}"
    listener = Subscriber(f"{prefix}/#")
    endpoints = [
        {"channel": "webhook", "url": f"http://{name}:{receiver.port}/ok/rebound"},
        {"channel": "email", "to": ["a@example.jp"], "smtp_host": name, "smtp_port": smtp_port},
        {"channel": "mqtt", "host": name, "port": 1883, "topic_prefix": prefix},
    ]
    try:
        with httpx.Client(base_url=default_hub.url) as client:
            ids = []
            for body in endpoints:
                response = client.post("/api/v1/endpoints", json=body, headers=headers)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            alert = make_alert(TOKYO, ["131016"])
            published = client.post(
                "/api/v1/alerts",
                content=xml(alert),
                headers={"Authorization": f"Bearer {issuer['token']}", **CAP_XML},
            )
            assert published.status_code == 201
            errors: dict[str, str | None] = {}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                for endpoint_id in ids:
                    shown = client.get(f"/api/v1/endpoints/{endpoint_id}", headers=headers)
                    errors[endpoint_id] = shown.json()["last_error"]
                if all(errors.values()):
                    break
                time.sleep(0.1)
        assert list(errors.values()) == [UNDELIVERABLE] * 3, errors
        assert receiver.received == []
        assert inbox.messages == []
        assert listener.messages == []
    finally:
        listener.stop()


async def _banner_server(banner: bytes) -> tuple[asyncio.Server, int]:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _silent_server() -> tuple[asyncio.Server, int]:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # accepts, reads, never answers
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_errors_map_no_ports_and_show_no_banners(hub: Hub) -> None:
    """Allowed hosts too: a closed port, a silent one and another service's banner all read
    the same in last_error, on every channel."""

    hub.dispatch_fast(retry_base_seconds=30)
    banner, banner_port = await _banner_server(b"SSH-2.0-OpenSSH_9.6 secret-build\r\n")
    silent, silent_port = await _silent_server()
    closed = free_port()
    issuer = await hub.org("東京都", TOKYO, ["13"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    bodies: list[dict[str, Any]] = []
    for port in (closed, silent_port, banner_port):
        bodies.append(
            {"channel": "webhook", "url": f"http://127.0.0.1:{port}/x", "timeout_seconds": 0.5}
        )
    for port in (closed, banner_port):
        bodies.append(
            {
                "channel": "email",
                "to": ["a@example.jp"],
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
            }
        )
    bodies.append({"channel": "mqtt", "host": "127.0.0.1", "port": closed})
    bodies.append({"channel": "mqtt", "host": "127.0.0.1", "port": banner_port})
    ids = []
    for body in bodies:
        response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    try:
        response = await hub.client.post(
            "/api/v1/alerts",
            content=xml(make_alert(TOKYO, ["131016"])),
            headers={**issuer["headers"], **CAP_XML},
        )
        assert response.status_code == 201
        errors: list[str | None] = []
        for _ in range(300):
            views = [
                (await hub.client.get(f"/api/v1/endpoints/{i}", headers=rx["headers"])).json()
                for i in ids
            ]
            errors = [view["last_error"] for view in views]
            if all(errors):
                break
            await asyncio.sleep(0.05)
        assert errors == [UNDELIVERABLE] * len(ids), errors
    finally:
        banner.close()
        silent.close()


def test_policy_allows_what_the_operator_names() -> None:
    policy = OutboundPolicy.from_setting("127.0.0.0/8, ::1/128")
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("[::ffff:127.0.0.1]") is None  # the same address on the wire
    assert policy.refusal("localhost") is None
    assert policy.refusal("10.0.0.1") is not None
    assert policy.refusal("169.254.169.254") is not None
    assert OutboundPolicy().refusal("8.8.8.8") is None
    assert OutboundPolicy().refusal("2001:4860:4860::8888") is None


def test_demo_hub_allows_loopback_receivers(tmp_path: Path, receiver: Receiver) -> None:
    """`serve --demo` opens loopback, so the documentation's local receivers work."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "ALERTCOMMONS_OUTBOUND_ALLOW"}
    env["ALERTCOMMONS_ADMIN_TOKEN"] = ADMIN
    args = ["serve", "--demo", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    process = subprocess.Popen(
        [sys.executable, "-m", "alertcommons", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        admin = {"Authorization": f"Bearer {ADMIN}"}
        rx = httpx.post(
            f"{base}/api/v1/organizations",
            json={"name": "Local receiver", "kind": "receiver", "sender": None},
            headers=admin,
        ).json()
        response = httpx.post(
            f"{base}/api/v1/endpoints",
            json={"channel": "webhook", "url": receiver.url("/ok/demo")},
            headers={"Authorization": f"Bearer {rx['token']}"},
        )
        assert response.status_code == 201, response.text
    finally:
        process.terminate()
        process.wait(20)


def test_a_bad_allow_list_stops_the_hub_at_start() -> None:
    with pytest.raises(SettingsError, match="ALERTCOMMONS_OUTBOUND_ALLOW"):
        Settings.load({"ALERTCOMMONS_OUTBOUND_ALLOW": "127.0.0.0/8,not-a-network"}).outbound_policy  # noqa: B018
