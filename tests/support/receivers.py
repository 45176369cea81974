"""Real webhook receivers: an HTTP/1.1 server on its own thread that records what it gets.

Behaviour is chosen per path: ``/ok/...`` answers 200; ``/flaky/N/...`` answers 500 to the
first N requests on that path, then 200; ``/gone/...`` answers 410; ``/hang/...`` reads the
request and never answers; ``/slow/...`` answers 200 after 50 ms; ``/delay/MS/...`` answers 200
after MS milliseconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time()


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._seen: dict[str, int] = defaultdict(int)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.received]

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def for_path(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=4096)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # A connection accepted just now has a handler task that has not started: cancelled
        # before its first step, its ``finally`` never runs and its socket is never closed.
        # One short turn lets every such handler start (and wait on its read) first.
        self._loop.run_until_complete(asyncio.sleep(0.02))
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        # A handler's writer.close() only schedules its socket's closing: let those callbacks
        # run before the loop closes, or the socket is left to the garbage collector (an
        # "unclosed socket" warning that fails whichever test is tearing down then).
        self._loop.run_until_complete(asyncio.sleep(0.05))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self._status(path)
                with self._lock:
                    self.received.append(Received(path, headers, body, time.time()))
                if status is None:
                    await asyncio.sleep(3600)
                    return
                if path.startswith("/slow/"):
                    await asyncio.sleep(0.05)
                if path.startswith("/delay/"):
                    await asyncio.sleep(int(path.split("/")[2]) / 1000)
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _status(self, path: str) -> int | None:
        kind = path.split("/")[1] if path.count("/") >= 1 else ""
        with self._lock:
            self._seen[path] += 1
            seen = self._seen[path]
        if kind == "hang":
            return None
        if kind == "gone":
            return 410
        if kind == "flaky":
            failures = int(path.split("/")[2])
            return 500 if seen <= failures else 200
        return 200
