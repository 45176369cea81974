"""Lean SSE and MQTT subscribers for fan-out benchmarks: one socket each, little CPU.

Thousands of connections from one address exhaust local ports over repeated runs, so clients
spread over 127.0.0.x source addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import select
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, cast


def source(index: int) -> tuple[str, int]:
    return (f"127.0.{1 + index // 250}.{2 + index % 250}", 0)


async def sse_client(
    index: int, port: int, path: str, wanted: str, ready: asyncio.Event, arrived: list[float]
) -> None:
    for attempt in range(5):  # a burst of connections can overflow the listen queue
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=source(index)
            )
            request = f"GET {path} HTTP/1.1\r\nHost: hub\r\nAccept: text/event-stream\r\n\r\n"
            writer.write(request.encode())
            await reader.readuntil(b"\r\n\r\n")
            break
        except (ConnectionError, asyncio.IncompleteReadError):
            await asyncio.sleep(0.2 * (attempt + 1))
    else:
        ready.set()
        return
    ready.set()
    marker = f"id: {wanted}".encode()
    buffer = b""
    try:
        while marker not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                return
            buffer = buffer[-256:] + chunk
        arrived.append(time.time())
    finally:
        writer.close()


def _remaining(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


async def mqtt_subscriber(
    index: int, port: int, topic: str, subscribed: list[int], arrived: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=source(index))
    body = _string("MQTT") + bytes([4, 2]) + (60).to_bytes(2, "big") + _string(f"bench{index}")
    writer.write(bytes([0x10]) + _remaining(len(body)) + body)
    subscribe = (1).to_bytes(2, "big") + _string(topic) + bytes([1])
    writer.write(bytes([0x82]) + _remaining(len(subscribe)) + subscribe)
    try:
        while True:
            header = await reader.readexactly(1)
            length, multiplier = 0, 1
            while True:
                byte = (await reader.readexactly(1))[0]
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                if not byte & 0x80:
                    break
            payload = await reader.readexactly(length)
            kind = header[0] >> 4
            if kind == 9:  # SUBACK
                subscribed.append(index)
            elif kind == 3:  # PUBLISH
                arrived.append(time.time())
                if (header[0] >> 1) & 3:  # QoS 1: acknowledge
                    topic_length = int.from_bytes(payload[:2], "big")
                    packet_id = payload[2 + topic_length : 4 + topic_length]
                    writer.write(bytes([0x40, 2]) + packet_id)
                return
    finally:
        writer.close()


class MQTTPublisher:
    """A lean QoS 1 publisher on asyncio (paho's select() loop breaks once the process holds
    more than 1,024 sockets, as it does beside 10,000 subscribers)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        body = _string("MQTT") + bytes([4, 2]) + (60).to_bytes(2, "big") + _string("bench-pub")
        self.writer.write(bytes([0x10]) + _remaining(len(body)) + body)
        await self.reader.readexactly(4)  # CONNACK

    async def publish(self, topic: str, payload: bytes) -> float:
        """Publish at QoS 1; the time it started (the PUBACK is awaited after)."""
        assert self.reader is not None and self.writer is not None
        body = _string(topic) + (1).to_bytes(2, "big") + payload
        start = time.time()
        self.writer.write(bytes([0x32]) + _remaining(len(body)) + body)
        await self.reader.readexactly(4)  # PUBACK
        return start

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# Clients in processes of their own ------------------------------------------------------------
#
# Ten thousand clients in the benchmark's own process were the bottleneck of every figure
# measured with them (hub, bare app and Mosquitto alike): one asyncio loop with a StreamReader
# and a task per socket took ~40 µs of CPU per arrival, as long as the servers took to send.
# So the clients of a fan-out measurement run in ``CLIENT_PROCESSES`` processes, each on uvloop
# (when installed) with a bare Protocol per socket: a few µs per arrival, and the servers' own
# cost is what the time to all says. Each arrival is stamped with time.time() as it is read.

CLIENT_PROCESSES = 4


class _Arrivals:
    """Arrival times, stamped as each client reads its event; ``all_in`` once all are."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.expected = 0
        self.all_in = asyncio.Event()

    def stamp(self) -> None:
        self.times.append(time.time())
        if len(self.times) >= self.expected:
            self.all_in.set()


class _SSEProtocol(asyncio.Protocol):
    """One SSE client: sends the request, says when the response head is in, stamps the
    arrival of the first chunk holding ``marker`` and closes."""

    def __init__(self, request: bytes, marker: bytes, arrived: _Arrivals) -> None:
        self.request, self.marker, self.arrived = request, marker, arrived
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer[-256:] + data
        if not self.ready.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            self.ready.set_result(None)
            buffer = buffer[end + 4 :]
        if self.marker in buffer:
            self.arrived.stamp()
            assert self.transport is not None
            self.transport.close()
        self.buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the response head"))


class _MQTTProtocol(asyncio.Protocol):
    """One MQTT 3.1.1 subscriber: CONNECT and SUBSCRIBE (QoS 1), says when the SUBACK is in,
    stamps the first PUBLISH, acknowledges it and closes."""

    def __init__(self, index: int, topic: str, arrived: _Arrivals) -> None:
        self.index, self.topic, self.arrived = index, topic, arrived
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        body = _string("MQTT") + bytes([4, 2]) + (60).to_bytes(2, "big")
        body += _string(f"bench{self.index}")
        subscribe = (1).to_bytes(2, "big") + _string(self.topic) + bytes([1])
        self.transport.write(
            bytes([0x10]) + _remaining(len(body)) + body
            + bytes([0x82]) + _remaining(len(subscribe)) + subscribe
        )  # fmt: skip

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 2:
            length, multiplier, at = 0, 1, 1
            while True:
                if at >= len(self.buffer):
                    return  # the length is not all in yet
                byte = self.buffer[at]
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                at += 1
                if not byte & 0x80:
                    break
            if len(self.buffer) < at + length:
                return
            header, payload = self.buffer[0], self.buffer[at : at + length]
            self.buffer = self.buffer[at + length :]
            if header >> 4 == 9 and not self.ready.done():  # SUBACK
                self.ready.set_result(None)
            elif header >> 4 == 3:  # PUBLISH
                self.arrived.stamp()
                assert self.transport is not None
                if (header >> 1) & 3:  # QoS 1: acknowledge
                    topic_length = int.from_bytes(payload[:2], "big")
                    packet_id = payload[2 + topic_length : 4 + topic_length]
                    self.transport.write(bytes([0x40, 2]) + packet_id)
                self.transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the SUBACK"))


async def _connect(index: int, port: int, make: Callable[[], _SSEProtocol | _MQTTProtocol]) -> bool:
    """Connect one client; a burst of connections can overflow the listen queue: retry."""
    loop = asyncio.get_running_loop()
    for attempt in range(5):
        try:
            _, protocol = await loop.create_connection(
                make, "127.0.0.1", port, local_addr=source(index)
            )
            await protocol.ready
            return True
        except (ConnectionError, OSError):
            await asyncio.sleep(0.2 * (attempt + 1))
    return False


async def _child(kind: str, port: int, target: str, offset: int, size: int) -> list[float]:
    """In a client process: ``size`` clients; ``ready`` once all are connected (SSE: response
    head read; MQTT: SUBACK read); the arrivals once all have arrived or two minutes passed."""
    arrived = _Arrivals()
    request = f"GET {target} HTTP/1.1\r\nHost: hub\r\nAccept: text/event-stream\r\n\r\n".encode()

    def make(index: int) -> Callable[[], _SSEProtocol | _MQTTProtocol]:
        if kind == "sse":
            return lambda: _SSEProtocol(request, b"id: ", arrived)
        return lambda: _MQTTProtocol(index, target, arrived)

    connected: list[bool] = []
    for start in range(offset, offset + size, 100):  # no burst beyond the listen queues
        batch = range(start, min(start + 100, offset + size))
        connected += await asyncio.gather(*(_connect(i, port, make(i)) for i in batch))
        await asyncio.sleep(0.02)
    arrived.expected = sum(connected)
    if not arrived.expected:
        arrived.all_in.set()
    print(f"ready {arrived.expected}", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(arrived.all_in.wait(), 120)
    return arrived.times


class ClientProcesses:
    """``count`` lean SSE clients (``kind`` "sse", ``target`` the path) or MQTT subscribers
    ("mqtt", ``target`` the topic) of ``port``, spread over ``processes`` processes.
    ``connect()`` returns once every client is connected (how many are); ``arrivals()`` the
    arrival times once all have arrived (or two minutes after connecting)."""

    def __init__(
        self, kind: str, port: int, target: str, count: int, processes: int = CLIENT_PROCESSES
    ) -> None:
        self.children: list[subprocess.Popen[str]] = []
        share = -(-count // processes)
        for offset in range(0, count, share):
            size = min(share, count - offset)
            command = [sys.executable, "-m", "bench.lean_clients", kind, str(port), target]
            command += [str(offset), str(size)]
            self.children.append(
                subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
            )

    def connect(self, timeout: float = 300) -> int:
        connected = 0
        deadline = time.monotonic() + timeout
        for child in self.children:
            assert child.stdout is not None
            waited = select.select([child.stdout], [], [], max(deadline - time.monotonic(), 0))
            line = child.stdout.readline().split() if waited[0] else ["timed", "out"]
            if line[:1] != ["ready"]:
                raise RuntimeError(f"a client process did not start: {line!r}")
            connected += int(line[1])
        return connected

    def arrivals(self) -> list[float]:
        arrived: list[float] = []
        for child in self.children:
            out, _ = child.communicate(timeout=180)
            arrived += json.loads(out.strip().splitlines()[-1])
        return arrived

    def close(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait()


def main() -> None:
    kind, port, target, offset, size = sys.argv[1:6]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        run: Any = uvloop.run
    except ImportError:
        run = asyncio.run
    arrived = run(_child(kind, int(port), target, int(offset), int(size)))
    print(json.dumps(arrived), flush=True)


if __name__ == "__main__":
    main()
