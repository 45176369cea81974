"""A lean HTTP/1.1 client for webhook fan-out: kept-alive connections, shared by all sends.

General-purpose clients spend more CPU per request than a hub can afford when one alert goes
to thousands of receivers at once (see shared PERFORMANCE.md: httpx ~500 requests/s, a lean
writer over kept-alive connections ~69k/s on this machine kind). A webhook needs little of
HTTP: one POST, a status, and the body read to keep the connection usable.

Every new connection goes through the outbound policy (``delivery/outbound.py``): the name is
resolved, the address checked, and the connection made to that very address. What goes wrong
before a complete HTTP response is reported as one generic :class:`HTTPError`, whatever it
was (refused, timed out, not HTTP): the details would map other hosts' ports and services.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from alertcommons.delivery.outbound import UNDELIVERABLE, OutboundPolicy, OutboundRefused

log = logging.getLogger(__name__)

MAX_RESPONSE_HEAD = 64 * 1024
MAX_RESPONSE_BODY = 1024 * 1024
MAX_IDLE_PER_HOST = 256
MAX_CONNECTIONS_PER_HOST = 256  # many endpoints at one receiver share its connections

# A space or a control character in a URL would end the request line or start a new header
# (request splitting); such a URL is refused, never sent.
UNSAFE_URL = re.compile(r"[\x00-\x20\x7f]")


def http_url(url: str) -> SplitResult:
    """``url`` split, if a request can be written for it; HTTPError otherwise."""
    if UNSAFE_URL.search(url):
        raise HTTPError("the URL holds a space or a control character")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HTTPError("not an http(s) URL")
    return parts


def host_header(parts: SplitResult) -> str:
    """The Host header for a URL: an IPv6 literal keeps its brackets (RFC 7230 §5.4)."""
    name = parts.hostname or ""
    if ":" in name:
        name = f"[{name}]"
    return name if parts.port is None else f"{name}:{parts.port}"


class HTTPError(Exception):
    """The exchange failed before a complete response: connection, timeout, or protocol."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


_Key = tuple[str, str, int]
_Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# A queued request's parts, worked out when its turn comes: (body, header lines as
# :meth:`HTTPPool.post_head` takes them, seconds allowed).
Build = Callable[[Any], tuple[bytes, str, float]]
# Called once per queued request, on the loop: its response, or why there is none (an
# HTTPError; any other exception is a bug in ``build``).
Finish = Callable[[Any, "Response | Exception"], None]


class _Gate:
    """At most ``MAX_CONNECTIONS_PER_HOST`` exchanges with one host at a time: a count, and a
    queue of waiters only when it is full (an ``asyncio.Semaphore`` costs more per send)."""

    __slots__ = ("free", "waiters")

    def __init__(self) -> None:
        self.free = MAX_CONNECTIONS_PER_HOST
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # the turn was handed over as the send was cancelled: pass it on
            elif waiter in self.waiters:  # a turn handed out meanwhile skipped it already
                self.waiters.remove(waiter)
            raise

    def leave(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the turn goes to it: ``free`` stays as it is
                return
        self.free += 1


class HTTPPool:
    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        timeout: float = 10.0,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.policy = policy or OutboundPolicy()
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._idle: dict[_Key, list[_Stream]] = defaultdict(list)
        self._gates: dict[_Key, _Gate] = defaultdict(_Gate)
        self._tls = ssl.create_default_context()
        # queued requests per host, and the send loops working through them
        self._queues: dict[_Key, deque[tuple[Any, str, Build, Finish]]] = {}
        self._loops: dict[_Key, int] = {}
        self._exchanging: dict[_Key, int] = {}  # of those loops, the ones in an exchange
        self._loop_tasks: set[asyncio.Task[None]] = set()

    def submit(
        self, url: str, item: Any, build: Build, finish: Finish, *, first: bool = False
    ) -> None:
        """Queue a POST to ``url`` and return: ``build(item)`` makes its request when its
        turn comes and ``finish(item, outcome)`` is called when it is done. Each host's queue
        is worked through by send loops, one per connection, up to the host's connection
        limit: a fan-out of thousands costs a loop turn per request, not a task per request
        (a task, a gate and a timer each were half a delivery's CPU in the profile). An
        unusable URL raises HTTPError here, and nothing is queued. ``first``: ahead of the
        requests already queued (an urgent alert behind a routine one's thousands).

        A loop busy with an exchange does not count as one that will take this request: a
        receiver that answers slowly holds its loops, and the rest of the host's queue gets
        loops of its own (up to the limit), as each request had its own task before."""
        key, start = _request_start(url)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
        if first:
            queue.appendleft((item, start, build, finish))
        else:
            queue.append((item, start, build, finish))
        loops = self._loops.get(key, 0)
        if loops < MAX_CONNECTIONS_PER_HOST and loops - self._exchanging.get(key, 0) < len(queue):
            self._loops[key] = loops + 1
            task = asyncio.create_task(self._send_loop(key, queue))
            self._loop_tasks.add(task)
            task.add_done_callback(self._loop_tasks.discard)

    async def _send_loop(self, key: _Key, queue: deque[tuple[Any, str, Build, Finish]]) -> None:
        gate = self._gates[key]
        try:
            await gate.enter()  # single posts (post_head) share the host's limit
        except BaseException:
            self._loops[key] -= 1
            raise
        try:
            while queue:
                item, start, build, finish = queue.popleft()
                outcome: Response | Exception
                self._exchanging[key] = self._exchanging.get(key, 0) + 1
                try:
                    body, head, seconds = build(item)
                    outcome = await self._send(key, _request(start, body, head), seconds)
                except Exception as exc:  # HTTPError, or a bug in build: finish says which
                    outcome = exc
                finally:
                    self._exchanging[key] -= 1
                try:
                    finish(item, outcome)
                except Exception:  # the rest of the queue must still be sent
                    log.exception("a finished webhook request could not be recorded")
        finally:
            self._loops[key] -= 1
            gate.leave()

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, seconds: float | None = None
    ) -> Response:
        head = "\r\n".join(f"{name}: {value}" for name, value in headers.items())
        return await self.post_head(url, body, head, self.timeout if seconds is None else seconds)

    async def post_head(self, url: str, body: bytes, head: str, seconds: float) -> Response:
        """:meth:`post` with the header lines already written (``Name: value`` joined by
        CRLF, no final CRLF; Host and Content-Length are added here). The caller vouches that
        no value holds a line break."""
        key, start = _request_start(url)
        request = _request(start, body, head)
        gate = self._gates[key]
        await gate.enter()
        try:
            return await self._send(key, request, seconds)
        finally:
            gate.leave()

    async def _send(self, key: _Key, request: bytes, limit: float) -> Response:
        # A kept-alive connection may have been closed by the peer while idle: one retry on
        # a fresh connection, and only when no byte of a response was seen.
        loop = asyncio.get_running_loop()
        for attempt in (0, 1):
            stream, reused = await self._acquire(key, fresh=attempt == 1)
            # One timer per exchange that aborts the connection when it fires (cheaper than
            # a timeout scope per request); the exchange then fails and is reported timed out.
            expired: list[bool] = []
            timer = loop.call_later(limit, _expire, stream, expired)
            try:
                response, keep = await _exchange(stream, request)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                _close(stream)
                if expired:
                    raise _undeliverable(key, f"no complete answer within {limit:g} s") from None
                if reused and attempt == 0 and _nothing_read(exc):
                    continue
                raise _undeliverable(key, f"connection failed: {exc!r}") from None
            except (ValueError, OSError) as exc:
                _close(stream)
                if expired:
                    raise _undeliverable(key, f"no complete answer within {limit:g} s") from None
                raise _undeliverable(key, f"bad response: {exc}") from None
            except asyncio.CancelledError:  # the hub is stopping: leave no socket open
                _close(stream)
                raise
            finally:
                timer.cancel()
            if expired:  # the answer was complete as the timer fired: the socket is gone
                return response
            if keep and len(self._idle[key]) < MAX_IDLE_PER_HOST:
                self._idle[key].append(stream)
            else:
                _close(stream)
            return response
        raise _undeliverable(key, "connection failed twice")

    async def _acquire(self, key: _Key, *, fresh: bool) -> tuple[_Stream, bool]:
        idle = self._idle[key]
        while idle and not fresh:
            stream = idle.pop()
            if not stream[1].is_closing() and not stream[0].at_eof():
                return stream, True
            _close(stream)
        scheme, host, port = key
        try:
            async with asyncio.timeout(self.connect_timeout):
                address = await self.policy.resolve(host, port)
                reader, writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=self._tls if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None,
                    limit=MAX_RESPONSE_HEAD,
                )
        except OutboundRefused:
            raise HTTPError(UNDELIVERABLE) from None
        except TimeoutError:
            raise _undeliverable(key, f"no connection within {self.connect_timeout:g} s") from None
        except OSError as exc:
            raise _undeliverable(key, f"could not connect: {exc.strerror or exc}") from None
        return (reader, writer), False

    async def close(self) -> None:
        for task in list(self._loop_tasks):
            task.cancel()
        await asyncio.gather(*self._loop_tasks, return_exceptions=True)
        self._queues.clear()  # never started: their leases bring them back
        for streams in self._idle.values():
            for stream in streams:
                _close(stream)
        self._idle.clear()


@lru_cache(maxsize=16384)
def _request_start(url: str) -> tuple[_Key, str]:
    """Where a URL's requests go and their request line and Host header: worked out once per
    endpoint URL, not once per send (an unusable URL raises HTTPError, and is not cached)."""
    parts = http_url(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    start = f"POST {target} HTTP/1.1\r\nHost: {host_header(parts)}"
    return (parts.scheme, parts.hostname or "", port), start


def _request(start: str, body: bytes, head: str) -> bytes:
    if head:
        return f"{start}\r\nContent-Length: {len(body)}\r\n{head}\r\n\r\n".encode("latin-1") + body
    return f"{start}\r\nContent-Length: {len(body)}\r\n\r\n".encode("latin-1") + body


def _undeliverable(key: _Key, detail: str) -> HTTPError:
    log.info("webhook to %s://%s:%d: %s", *key, detail)
    return HTTPError(UNDELIVERABLE)


def _nothing_read(exc: BaseException) -> bool:
    return not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial


def _close(stream: _Stream) -> None:
    stream[1].close()


def _expire(stream: _Stream, expired: list[bool]) -> None:
    """The exchange on ``stream`` ran out of time: end it (its reads and writes fail now)."""
    expired.append(True)
    stream[1].transport.abort()


async def _exchange(stream: _Stream, request: bytes) -> tuple[Response, bool]:
    reader, writer = stream
    writer.write(request)
    if writer.transport.get_write_buffer_size():  # else the socket took it all: no wait
        await writer.drain()
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ValueError("response headers too large") from None
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(rest.split(" ", 1)[0])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_RESPONSE_BODY:
            raise ValueError("response body too large")
        body = await reader.readexactly(length)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read(MAX_RESPONSE_BODY)
        keep = False
    return Response(status, headers, body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return b"".join(chunks)
        total += size
        if total > MAX_RESPONSE_BODY:
            raise ValueError("response body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
