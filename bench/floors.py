"""Floors measured in the same invocation as our figures: the bare implementation of each job
on the same machine, at the same moment, with the same receiver or clients.

The machine is shared (other processes compete for its cores), so an absolute figure says
little; the ratio of ours to the floor measured a second earlier says how far the hub is from
what the wire and the event loop cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

RAW_CONNECTIONS = 100  # as in shared PERFORMANCE.md's "hand-written asyncio HTTP/1.1 writer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def raise_file_limit() -> int:
    """Open files up to the hard limit (10,000 clients need 10,000 sockets); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def machine() -> dict[str, Any]:
    """What the machine was doing: the figures only mean something beside this."""
    return {"cpus": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def ratio(ours: float | None, floor: float | None) -> float | None:
    if not ours or not floor:
        return None
    return round(ours / floor, 2)


async def _post_all(
    port: int, paths: list[str], body: bytes, connections: list[Any] | None
) -> list[Any]:
    """POST ``body`` to every path over kept-alive connections, as fast as the loop allows:
    each connection writes its next request as soon as the previous answer is read."""
    if connections is None:
        connections = [
            await asyncio.open_connection("127.0.0.1", port) for _ in range(RAW_CONNECTIONS)
        ]
    work = iter(paths)

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for path in work:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/cap+xml\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            length = int(answer.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)

    await asyncio.gather(*(run(r, w) for r, w in connections))
    return connections


class RawWriter:
    """The hand-written asyncio HTTP/1.1 writer, posting to the benchmark's own receiver."""

    def __init__(self, receiver_port: int) -> None:
        self.port = receiver_port
        self._connections: list[Any] | None = None
        self._loop = asyncio.new_event_loop()

    def send(self, paths: list[str], body: bytes) -> float:
        """Post to every path; the wall-clock start (the receiver stamps each arrival)."""
        start = time.time()
        self._connections = self._loop.run_until_complete(
            _post_all(self.port, paths, body, self._connections)
        )
        return start

    def close(self) -> None:
        for _, writer in self._connections or []:
            writer.close()
        self._loop.close()


@contextlib.contextmanager
def bare_server(app: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """A bare ASGI app (bench/bare_apps.py) on uvicorn in its own process: its port."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    args += ["--log-level", "warning", "--backlog", "4096", "--no-access-log"]
    process = subprocess.Popen(args, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()


def _unlimited_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def mosquitto() -> Iterator[int | None]:
    """The benchmark's own Mosquitto on a free port, its connection and file limits raised so
    10,000 subscribers connect (the shared broker on 1883 is left alone). None: not installed."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_connections -1\n"
            "persistence false\nlog_dest none\nmax_queued_messages 10000\n"
        )
        process = subprocess.Popen(
            [binary, "-c", str(config)],
            preexec_fn=_unlimited_files,  # only sets a resource limit
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                    break
                time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            if process.poll() is None:
                process.kill()


def publish_to_bare_sse(port: int, event: bytes) -> float:
    """Start the bare app's fan-out the way the hub's is started: one POST; its start time."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        client.get("/count")  # the connection is open before the clock starts
        start = time.time()
        client.post("/publish", content=event)
    return start


def receiver_path(url: str) -> str:
    return urlsplit(url).path
