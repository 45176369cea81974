"""A real Server-Sent Events client on its own thread, for tests against a hub process."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx


class SSEClient:
    """A real SSE client on its own thread: events and comments go into a queue."""

    def __init__(self, url: str, params: dict[str, Any], last_event_id: str | None = None):
        self.items: queue.Queue[tuple[str, str, str]] = queue.Queue()
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, params, headers), daemon=True)
        self._thread.start()

    def _run(self, url: str, params: dict[str, Any], headers: dict[str, str]) -> None:
        try:
            self._read(url, params, headers)
        except httpx.HTTPError as exc:  # the hub stopping under an open stream ends it
            self.items.put(("closed", "", repr(exc)))

    def _read(self, url: str, params: dict[str, Any], headers: dict[str, str]) -> None:
        with (
            httpx.Client(timeout=30) as client,
            client.stream("GET", url, params=params, headers=headers) as response,
        ):
            event_id, data = "", ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.items.put(("comment", "", line))
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and data:
                    self.items.put(("event", event_id, data))
                    event_id, data = "", ""

    def next_event(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        """The next event within ``timeout`` seconds, heartbeats or not (``queue.Empty``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise queue.Empty
            kind, event_id, payload = self.items.get(timeout=left)
            if kind == "event":
                return event_id, json.loads(payload)

    def close(self) -> None:
        self._stop.set()
