"""The webhook client writes a request a server can read: the Host header of an IPv6 literal
keeps its brackets, and a URL that would split the request line is refused, never sent. An
answer that never comes times out; one host gets at most its connection limit; a literal
address is checked by the outbound policy without a lookup."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from alertcommons.delivery import http
from alertcommons.delivery.http import HTTPError, HTTPPool
from alertcommons.delivery.outbound import LOOPBACK, UNDELIVERABLE, OutboundPolicy
from tests.support.hub import Hub
from tests.support.waiting import until

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


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request from a test server's connection: its head and its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return head, await reader.readexactly(length)


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


async def test_an_answer_that_never_comes_times_out_and_the_socket_is_closed() -> None:
    ended = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; returns when the hub closes the connection
        ended.set()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    started = asyncio.get_running_loop().time()
    try:
        async with server:
            with pytest.raises(HTTPError):
                await pool.post(f"http://127.0.0.1:{port}/x", b"{}", {}, seconds=0.3)
            elapsed = asyncio.get_running_loop().time() - started
            await asyncio.wait_for(ended.wait(), 5)
    finally:
        await pool.close()
    assert 0.25 <= elapsed < 2, elapsed


async def test_one_host_gets_at_most_its_connection_limit_and_cancelled_waiters_free_theirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http, "MAX_CONNECTIONS_PER_HOST", 3)
    hold = asyncio.Event()
    open_now = most = 0

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                await _read_request(reader)
                await hold.wait()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1
            writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/x"
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    try:
        async with server:
            posts = [asyncio.create_task(pool.post(url, b"{}", {})) for _ in range(10)]
            await asyncio.sleep(0.2)
            assert most == 3  # the others wait their turn
            for waiting in posts[3:6]:  # three waiters give up
                waiting.cancel()
            hold.set()
            done = await asyncio.gather(*posts[:3], *posts[6:])
            assert [r.status for r in done] == [204] * 7
            assert most == 3
            # every turn came back: three at once again, no more
            hold.clear()
            again = [asyncio.create_task(pool.post(url, b"{}", {})) for _ in range(4)]
            await asyncio.sleep(0.2)
            assert sum(task.done() for task in again) == 0
            hold.set()
            assert [r.status for r in await asyncio.gather(*again)] == [204] * 4
    finally:
        await pool.close()
    assert most == 3


async def test_a_literal_address_is_checked_without_a_lookup(
    monkeypatch: pytest.MonkeyPatch, ipv6_server: RawServer
) -> None:
    async def no_lookup(*args: object, **kwargs: object) -> None:
        raise AssertionError("a literal address was looked up")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_lookup)
    allowed = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    refused = HTTPPool(policy=OutboundPolicy())  # loopback is not a public address
    try:
        response = await allowed.post(f"http://[::1]:{ipv6_server.port}/a", b"{}", {})
        assert response.status == 204
        with pytest.raises(HTTPError, match=UNDELIVERABLE):
            await refused.post(f"http://[::1]:{ipv6_server.port}/b", b"{}", {})
    finally:
        await allowed.close()
        await refused.close()
    assert len(ipv6_server.heads) == 1  # the refused one never connected


async def test_queued_requests_share_send_loops_within_the_limit_and_each_finishes_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``HTTPPool.submit``: twenty requests to one host go over at most its connection limit,
    each is finished exactly once with its own answer, one whose request cannot be built is
    finished with the error and the rest still go, and a single post waits its turn beside
    the send loops."""
    monkeypatch.setattr(http, "MAX_CONNECTIONS_PER_HOST", 3)
    open_now = most = 0
    paths: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                head, body = await _read_request(reader)
                paths.append(head.split(b" ")[1].decode())
                await asyncio.sleep(0.01)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    finished: dict[int, list[object]] = {}

    def build(number: int) -> tuple[bytes, str, float]:
        if number == 7:
            raise RuntimeError("no request for seven")
        return str(number).encode(), "Content-Type: text/plain", 5.0

    def finish(number: int, outcome: object) -> None:
        finished.setdefault(number, []).append(outcome)

    try:
        async with server:
            for number in range(20):
                pool.submit(f"{base}/{number}", number, build, finish)
            single = asyncio.create_task(pool.post(f"{base}/single", b"s", {}))
            with pytest.raises(HTTPError):
                pool.submit("ftp://example.org/x", 99, build, finish)
            for _ in range(200):
                if len(finished) == 20 and single.done():
                    break
                await asyncio.sleep(0.02)
            assert (await single).body == b"s"
    finally:
        await pool.close()
    assert sorted(finished) == list(range(20))  # 99 was never queued
    assert all(len(outcomes) == 1 for outcomes in finished.values())
    assert isinstance(finished[7][0], RuntimeError)
    for number, (outcome,) in finished.items():
        if number != 7:
            assert isinstance(outcome, http.Response) and outcome.body == str(number).encode()
    assert "/7" not in paths and len(paths) == 20  # nineteen queued and the single post
    assert most == 3


async def test_a_slow_answer_holds_only_its_own_loop_and_urgent_requests_go_first() -> None:
    """A receiver slow to answer one request must not hold back the next one to the same
    host while connections are free (a send loop in an exchange is not counted as one that
    will take it); and a request queued ``first`` goes ahead of those already queued."""
    release = asyncio.Event()
    order: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head, _ = await _read_request(reader)
                path = head.split(b" ")[1].decode()
                order.append(path)
                if path == "/slow":
                    await release.wait()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    finished: dict[str, float] = {}

    def build(path: str) -> tuple[bytes, str, float]:
        return b"x", "", 10.0

    def finish(path: str, outcome: object) -> None:
        assert isinstance(outcome, http.Response), outcome
        finished[path] = time.monotonic()

    try:
        async with server:
            pool.submit(f"{base}/slow", "/slow", build, finish)
            await until(lambda: order == ["/slow"], 5)
            started = time.monotonic()
            pool.submit(f"{base}/fast", "/fast", build, finish)
            await until(lambda: "/fast" in finished, 5)
            assert finished["/fast"] - started < 1.0  # not behind the slow one's 10 s
            release.set()
            await until(lambda: "/slow" in finished, 5)
    finally:
        await pool.close()


def test_a_request_queued_first_is_taken_before_the_others() -> None:
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))

    def build(path: str) -> tuple[bytes, str, float]:
        return b"", "", 1.0

    async def queue_three() -> list[str]:
        for path, first in (("/a", False), ("/b", False), ("/urgent", True)):
            pool.submit(f"http://127.0.0.1:9/{path}", path, build, lambda *_: None, first=first)
        queued = [entry[0] for entry in next(iter(pool._queues.values()))]
        await pool.close()
        return queued

    assert asyncio.run(queue_three()) == ["/urgent", "/a", "/b"]


async def test_a_dead_receiver_fails_every_queued_request_once_and_leaves_no_loop() -> None:
    """Nothing listens: each queued request is finished with an HTTPError (the dispatcher's
    retry), exactly once, and the host's send loops end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections are refused
    pool = HTTPPool(policy=OutboundPolicy.from_setting(LOOPBACK))
    finished: dict[int, list[object]] = {}

    def build(number: int) -> tuple[bytes, str, float]:
        return b"x", "", 5.0

    def finish(number: int, outcome: object) -> None:
        finished.setdefault(number, []).append(outcome)

    try:
        for number in range(300):  # more than the host's connection limit
            pool.submit(f"http://127.0.0.1:{port}/{number}", number, build, finish)
        await until(lambda: len(finished) == 300, 10)
        await until(lambda: not pool._loop_tasks, 5)
    finally:
        await pool.close()
    assert all(len(o) == 1 and isinstance(o[0], HTTPError) for o in finished.values())
    assert sum(pool._loops.values()) == 0 and sum(pool._exchanging.values()) == 0
