"""Fetching the JMA's feeds and reports: only from where the feed lives, within time limits.

A feed is input from outside, and so is every link in it. Each URL the ingest is about to open
(an entry's report, and every redirect on the way) must be http(s) on the feed's own host or on
a host the operator allowed (``ALERTCOMMONS_JMA_ALLOWED_HOSTS``): a ``file://`` link or one to
an internal address is refused before any connection is made.

Requests run on the event loop over asyncio streams, not in the shared thread pool, so a slow
JMA server holds no thread another subsystem needs. Each read waits at most ``read_seconds``
and the whole fetch, redirects included, at most ``total_seconds``: a server trickling a byte
every few seconds costs one entry a few seconds, never the feed.

A fetcher given an outbound policy (``delivery/outbound.py``; CAP sources added through the
admin API) also connects only to addresses that policy permits, judged on the address the
name resolved to, as the hub's own deliveries are.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from alertcommons.delivery.outbound import OutboundPolicy, OutboundRefused
from alertcommons.errors import AlertCommonsError

USER_AGENT = "alertcommons-jma-ingest"
MAX_HEAD_BYTES = 64 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


class FetchRefused(AlertCommonsError):
    """A link the hub will not open: not http(s), or not on an allowed host. Permanent."""


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True, slots=True)
class FetchLimits:
    read_seconds: float = 5.0  # one read (connect, a chunk of head or body)
    total_seconds: float = 20.0  # the whole fetch, redirects included
    max_redirects: int = 3


class LinkPolicy:
    """Which URLs may be fetched: http(s) on the feed's host or an allowed one."""

    def __init__(self, feed_url: str, allowed_hosts: tuple[str, ...] = ()) -> None:
        own = urlsplit(feed_url).hostname
        self.hosts = frozenset(h.strip().lower() for h in (own or "", *allowed_hosts) if h.strip())

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchRefused(f"{url!r}: only http(s) links are followed")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused(f"{url!r}: links with credentials are not followed")
        host = (parts.hostname or "").lower()
        if host not in self.hosts:
            raise FetchRefused(f"{url!r}: host '{host}' is not the feed's own or an allowed one")


class Fetcher:
    def __init__(
        self,
        policy: LinkPolicy,
        limits: FetchLimits | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.policy = policy
        self.limits = limits or FetchLimits()
        self.outbound = outbound
        self._tls = ssl.create_default_context()

    async def get(self, url: str, headers: dict[str, str], max_bytes: int) -> Fetched:
        """GET ``url``, following redirects that pass the policy; at most ``max_bytes`` of
        body (more is an error, not a truncation). Raises ``FetchRefused`` for a link that
        is not allowed, ``OSError`` (``TimeoutError`` included) for one that failed."""
        try:
            async with asyncio.timeout(self.limits.total_seconds):
                for _ in range(self.limits.max_redirects + 1):
                    self.policy.check(url)
                    fetched = await self._once(url, headers, max_bytes)
                    location = fetched.headers.get("location")
                    if fetched.status not in REDIRECTS or not location:
                        return fetched
                    url = urljoin(url, location)
        except TimeoutError:
            raise TimeoutError(f"{url}: no complete answer in time") from None
        raise OSError(f"{url}: more than {self.limits.max_redirects} redirects")

    async def _once(self, url: str, headers: dict[str, str], max_bytes: int) -> Fetched:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        read = self.limits.read_seconds
        address = host
        if self.outbound is not None:
            try:
                address = await asyncio.wait_for(self.outbound.resolve(host, port), read)
            except OutboundRefused:
                raise FetchRefused(
                    f"'{host}' is not an address this hub connects to (ALERTCOMMONS_OUTBOUND_ALLOW)"
                ) from None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                address, port, ssl=self._tls if tls else None, server_hostname=host if tls else None
            ),
            read,
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            authority = host if parts.port is None else f"{host}:{parts.port}"
            lines = [
                f"GET {target} HTTP/1.1",
                f"Host: {authority}",
                f"User-Agent: {USER_AGENT}",
                "Accept-Encoding: identity",
                "Connection: close",
                *(f"{name}: {value}" for name, value in headers.items()),
            ]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await asyncio.wait_for(writer.drain(), read)
            raw = bytearray()
            limit = MAX_HEAD_BYTES + max_bytes + 64 * 1024  # chunk framing included
            while True:
                chunk = await asyncio.wait_for(reader.read(64 * 1024), read)
                if not chunk:
                    break
                raw += chunk
                if len(raw) > limit:
                    raise OSError(f"{url}: more than {max_bytes:,} bytes")
                if _complete(bytes(raw)):
                    break  # a server keeping the connection open despite "close"
        finally:
            writer.close()
        return _parse(url, bytes(raw), max_bytes)


def _complete(raw: bytes) -> bool:
    """Whether ``raw`` already holds a whole response (else read on, to the end)."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return False
    lines = head.decode("latin-1").lower().split("\r\n")
    code = lines[0][9:12]
    if code in ("204", "304"):
        return True
    fields = dict(line.partition(":")[::2] for line in lines[1:])
    values = {name.strip(): value.strip() for name, value in fields.items()}
    if "chunked" in values.get("transfer-encoding", ""):
        return body.endswith(b"0\r\n\r\n")
    length = values.get("content-length", "")
    return length.isdigit() and len(body) >= int(length)


def _parse(url: str, raw: bytes, max_bytes: int) -> Fetched:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator or len(head) > MAX_HEAD_BYTES:
        raise OSError(f"{url}: not an HTTP response")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if (
        len(status_line) < 2
        or not status_line[0].startswith("HTTP/")
        or not status_line[1].isdigit()
    ):
        raise OSError(f"{url}: not an HTTP response")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(url, body)
    elif "content-length" in headers and headers["content-length"].isdigit():
        length = int(headers["content-length"])
        if len(body) < length:
            raise OSError(f"{url}: the answer ended early")
        body = body[:length]
    if len(body) > max_bytes:
        raise OSError(f"{url}: more than {max_bytes:,} bytes")
    return Fetched(int(status_line[1]), headers, body)


def _dechunk(url: str, data: bytes) -> bytes:
    out = bytearray()
    position = 0
    while True:
        end = data.find(b"\r\n", position)
        if end < 0:
            raise OSError(f"{url}: the answer ended early")
        size_text = data[position:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise OSError(f"{url}: bad chunked encoding") from None
        if size == 0:
            return bytes(out)
        start = end + 2
        if len(data) < start + size:
            raise OSError(f"{url}: the answer ended early")
        out += data[start : start + size]
        position = start + size + 2
