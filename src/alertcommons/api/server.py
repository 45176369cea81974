"""The HTTP server's own limits, so that slow or hostile clients cost only themselves.

uvicorn closes idle kept-alive connections, but a client that sends its request head one
byte at a time, or never reads what it asked for, holds a connection (and, for a live
stream, a copy of every alert in its write buffer) for as long as it likes. Two guards:

* a request head must be complete within ``header_timeout`` of the connection opening or of
  the request's first byte, or the connection is dropped;
* every accepted socket gets ``TCP_USER_TIMEOUT``: data the peer leaves unacknowledged (a
  zero window, a vanished host) for ``send_timeout`` makes the kernel abort the connection and
  free its buffers. The live stream drops a client that does not take a chunk in that time.

The number of connections handled at once is capped by uvicorn's ``limit_concurrency``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from alertcommons import logs


class HubServer(uvicorn.Server):
    """uvicorn's server, but a stop signal ends the live streams at once: they never finish
    on their own, so waiting for them only delays the stop (and ends in a cancellation
    traceback). Their clients reconnect to another node, or later, with Last-Event-ID."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        app: Any = self.config.app
        services = getattr(getattr(app, "state", None), "services", None)
        if services is not None:
            services.broadcaster.close()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                # On leaving, uvicorn raises the stop signal again and the process ends with no
                # exit handler run: the lines the log keeps (logs.BufferedStreamHandler), the
                # node's stop among them, are written first.
                logs.flush()


def guarded_protocol(header_timeout: float, send_timeout: float) -> type[asyncio.Protocol]:
    """An HTTP/1.1 protocol class for uvicorn's ``http=`` with the two guards above."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None
        _in_head = False  # a request head has begun and is not complete yet

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
                with contextlib.suppress(OSError):
                    milliseconds = max(int(send_timeout * 1000), 1)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, milliseconds)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # A head begun in these bytes and not finished by them is timed from now (its
            # first byte came microseconds ago). One that came whole — nearly every request —
            # needs no timer: making and cancelling one per request was a measurable share of
            # a cached feed's cost.
            if self._in_head and self._head_timer is None:
                self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._disarm()  # the head is timed from its own first byte
            self._in_head = True

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            if self.transport is not None and not self.transport.is_closing():
                self._head_timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            if self.transport is not None and not self.transport.is_closing():
                self.transport.abort()

    return GuardedHttpToolsProtocol
