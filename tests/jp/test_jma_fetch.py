"""The JMA fetcher against real sockets: answers framed by length or in chunks are read whole
even when the server keeps the connection open; a trickle meets the read limit; links off the
feed's host or off http(s) are refused before any connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from alertcommons.hub.jma_fetch import Fetcher, FetchLimits, FetchRefused, LinkPolicy

pytestmark = pytest.mark.anyio


async def _length(writer: asyncio.StreamWriter) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "x"\r\n\r\nhello')
    await writer.drain()
    await asyncio.sleep(30)  # keeps the connection open


async def _chunked(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    writer.write(b"3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(30)


async def _trickle(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(30):
        writer.write(b"<")
        await writer.drain()
        await asyncio.sleep(0.4)


ANSWERS = {"/length": _length, "/chunked": _chunked, "/trickle": _trickle}


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ")[1].decode()
            await ANSWERS[path](writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    running = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = running.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.close()


async def test_answers_read_whole_and_limits_kept(server: str) -> None:
    fetcher = Fetcher(LinkPolicy(server + "/feed/"), FetchLimits(read_seconds=1, total_seconds=2))
    started = time.monotonic()
    length = await fetcher.get(server + "/length", {}, 1000)
    chunked = await fetcher.get(server + "/chunked", {}, 1000)
    assert time.monotonic() - started < 1  # neither waited for the connection to close
    assert (length.status, length.body, length.headers["etag"]) == (200, b"hello", '"x"')
    assert (chunked.status, chunked.body) == (200, b"hello")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await fetcher.get(server + "/trickle", {}, 1000)  # a byte every 0.4 s: whole-fetch limit
    assert time.monotonic() - started < 3
    with pytest.raises(OSError, match="more than"):
        await fetcher.get(server + "/length", {}, 3)
    for link in ("file:///etc/hostname", "ftp://127.0.0.1/x", "http://user@127.0.0.1/x"):
        with pytest.raises(FetchRefused):
            await fetcher.get(link, {}, 1000)
    with pytest.raises(FetchRefused):
        await fetcher.get("http://localhost:1/x", {}, 1000)  # not the feed's host
