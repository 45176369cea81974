"""The webhook client writes a request a server can read: the Host header of an IPv6 literal
keeps its brackets, and a URL that would split the request line is refused, never sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from alertcommons.delivery.http import HTTPError, HTTPPool
from alertcommons.delivery.outbound import LOOPBACK, OutboundPolicy
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio


@dataclass
class RawServer:
    """A real socket server that records each request's head and answers 204."""

    port: int = 0
    heads: list[str] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        self.heads.append(head)
        length = next(
            int(line.split(":", 1)[1])
            for line in head.split("\r\n")
            if line.lower().startswith("content-length:")
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
async def ipv6_server() -> AsyncIterator[RawServer]:
    recorder = RawServer()
    server = await asyncio.start_server(recorder.handle, "::1", 0)
    recorder.port = server.sockets[0].getsockname()[1]
    async with server:
        yield recorder


async def test_host_header_of_an_ipv6_literal_keeps_its_brackets(ipv6_server: RawServer) -> None:
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    try:
        response = await pool.post(f"http://[::1]:{ipv6_server.port}/alerts", b"{}", {})
    finally:
        await pool.close()
    assert response.status == 204
    (head,) = ipv6_server.heads
    assert head.startswith("POST /alerts HTTP/1.1\r\n")
    assert f"\r\nHost: [::1]:{ipv6_server.port}\r\n" in head


@pytest.mark.parametrize("path", ["/a b", "/a\r\nX-Injected: 1", "/a\tb"])
async def test_a_url_with_a_space_or_control_character_is_refused_unsent(
    ipv6_server: RawServer, path: str
) -> None:
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    try:
        with pytest.raises(HTTPError, match="space or a control character"):
            await pool.post(f"http://[::1]:{ipv6_server.port}{path}", b"{}", {})
    finally:
        await pool.close()
    assert ipv6_server.connections == 0  # refused before any connection was made


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_registering_such_a_url_is_a_422(hub: Hub) -> None:
    rx = await hub.org("Receivers", None, [], kind="receiver")
    body = {"channel": "webhook", "url": "http://127.0.0.1:8080/a b"}
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
    assert response.status_code == 422, response.text
    assert response.json()["path"] == "channel settings"
