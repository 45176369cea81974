"""Lean SSE and MQTT subscribers for fan-out benchmarks: one socket each, little CPU.

Thousands of connections from one address exhaust local ports over repeated runs, so clients
spread over 127.0.0.x source addresses.
"""

from __future__ import annotations

import asyncio
import time


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
