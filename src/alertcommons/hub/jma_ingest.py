"""JMA feed ingest: poll the JMA's Atom feeds, convert new reports, publish them as the JMA.

Each feed is polled on its own loop with a conditional GET (``If-None-Match`` /
``If-Modified-Since``); entries already handled are remembered by id, and a report the hub
already holds (same sender and identifier) is not published twice, so a restart or an
overlapping feed costs nothing but a look-up. Errors back off exponentially per feed, up to
ten minutes; an entry whose document could not be fetched is tried again on the next poll.
Reports of one event are linked (``jma.follow``): a later report references the earlier
alert exactly, so receivers see updates and cancellations, not a pile of separate alerts.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from alertcommons import pools
from alertcommons.auth.principal import Principal
from alertcommons.hub.publish import Publisher
from alertcommons.hub.system_issuers import national_issuer
from alertcommons.jp import jma
from alertcommons.jp.feed import FEED_LIMITS, FeedError, read_feed
from alertcommons.problems import ProblemError
from alertcommons.store import alerts as alert_queries
from alertcommons.store.engine import Store

log = logging.getLogger("alertcommons.jma")

JMA_ORG_ID = "jma"
JMA_NAME = "気象庁"
MAX_BACKOFF_SECONDS = 600.0
REMEMBERED_ENTRIES = 20_000
USER_AGENT = "alertcommons-jma-ingest"


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes


Fetch = Callable[[str, dict[str, str], int], Awaitable[Fetched]]


async def fetch_url(url: str, headers: dict[str, str], max_bytes: int) -> Fetched:
    """GET ``url``; at most ``max_bytes`` are read (more is an error, not a truncation)."""

    def get() -> Fetched:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                body = response.read(max_bytes + 1)
                status, found = response.status, dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            return Fetched(exc.code, dict(exc.headers.items()), b"")
        if len(body) > max_bytes:
            raise OSError(f"{url}: more than {max_bytes:,} bytes")
        return Fetched(status, found, body)

    return await pools.run("fetch", get)


@dataclass
class FeedState:
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    polls: int = 0
    not_modified: int = 0
    last_poll: float | None = None
    last_error: str | None = None


@dataclass
class IngestCounts:
    published: int = 0
    duplicates: int = 0
    skipped: int = 0
    refused: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # feed seen → publish accepted


class JMAIngest:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        base_url: str,
        feeds: tuple[str, ...],
        interval: float,
        *,
        fetch: Fetch = fetch_url,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.interval = interval
        self.fetch = fetch
        base = base_url if base_url.endswith("/") else base_url + "/"
        self.feeds = {name: FeedState(name, urljoin(base, f"{name}.xml")) for name in feeds}
        self.counts = IngestCounts()
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._principal: Principal | None = None

    async def start(self) -> None:
        self._principal = await national_issuer(self.store, JMA_ORG_ID, JMA_NAME, jma.SENDER)
        self._tasks = [asyncio.create_task(self._run(state)) for state in self.feeds.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def status(self) -> dict[str, Any]:
        recent = sorted(self.counts.latencies_ms[-200:])
        return {
            "feeds": [
                {
                    "name": s.name,
                    "url": s.url,
                    "polls": s.polls,
                    "not_modified": s.not_modified,
                    "failing": s.failures,
                    "last_error": s.last_error,
                    "seconds_since_poll": (
                        round(time.monotonic() - s.last_poll, 1) if s.last_poll else None
                    ),
                }
                for s in self.feeds.values()
            ],
            "published": self.counts.published,
            "duplicates": self.counts.duplicates,
            "skipped": self.counts.skipped,
            "refused": self.counts.refused,
            "errors": self.counts.errors,
            "median_ms_to_publish": recent[len(recent) // 2] if recent else None,
        }

    async def _run(self, state: FeedState) -> None:
        while True:
            try:
                await self.poll(state)
                state.failures = 0
                state.last_error = None
                delay = self.interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                state.failures += 1
                state.last_error = str(exc)[:300]
                delay = min(self.interval * 2**state.failures, MAX_BACKOFF_SECONDS)
                log.warning("JMA feed %s failed (%s); next try in %.0f s", state.name, exc, delay)
            await asyncio.sleep(delay)

    async def poll(self, state: FeedState) -> int:
        """One conditional GET of one feed; publishes what is new. Returns how many."""
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        state.polls += 1
        state.last_poll = time.monotonic()
        fetched = await self.fetch(state.url, headers, FEED_LIMITS.max_bytes)
        if fetched.status == 304:
            state.not_modified += 1
            return 0
        if fetched.status != 200:
            raise OSError(f"{state.url}: HTTP {fetched.status}")
        seen_at = time.monotonic()
        try:
            entries = read_feed(fetched.body, state.url)
        except FeedError as exc:
            raise OSError(f"{state.url}: {exc}") from None
        published = 0
        for entry in entries:
            if entry.id in self._handled:
                continue
            published += await self._take(entry.url, seen_at)
            self._remember(entry.id)  # only once handled: a failed fetch raises and retries
        headers_lower = {k.lower(): v for k, v in fetched.headers.items()}
        state.etag = headers_lower.get("etag")
        state.last_modified = headers_lower.get("last-modified")
        return published

    async def _take(self, url: str, seen_at: float) -> int:
        fetched = await self.fetch(url, {}, jma.JMA_LIMITS.max_bytes)
        if fetched.status in (404, 410):  # gone for good: waiting would block the feed
            self.counts.errors += 1
            log.warning("JMA report %s: HTTP %s", url, fetched.status)
            return 0
        if fetched.status != 200:
            raise OSError(f"{url}: HTTP {fetched.status}")
        try:
            converted = jma.convert(fetched.body)
        except jma.JMAError as exc:
            self.counts.errors += 1
            log.warning("JMA report %s cannot be read: %s", url, exc)
            return 0
        if converted.alert is None:
            self.counts.skipped += 1
            return 0
        alert = converted.alert
        held, previous = await self.store.read(
            lambda c: (
                alert_queries.find(c, jma.SENDER, alert.identifier or "") is not None,
                alert_queries.latest_of_event(c, jma.SENDER, converted.event_base),
            )
        )
        if held:
            self.counts.duplicates += 1
            return 0
        linked = jma.follow(alert, converted.event_base, previous)
        if linked is None:
            self.counts.skipped += 1  # cancels an alert this hub never held
            return 0
        assert self._principal is not None
        try:
            outcome = await self.publisher.publish(self._principal, linked)
        except ProblemError as exc:
            self.counts.refused += 1
            log.warning("JMA report %s refused: %s", url, exc)
            return 0
        if not outcome.created:
            self.counts.duplicates += 1
            return 0
        self.counts.published += 1
        self.counts.latencies_ms.append((time.monotonic() - seen_at) * 1000)
        del self.counts.latencies_ms[:-1000]
        log.info("JMA %s → alert %s (%s)", converted.type, outcome.alert_id, url)
        return 1

    def _remember(self, entry_id: str) -> None:
        self._handled[entry_id] = None
        while len(self._handled) > REMEMBERED_ENTRIES:
            self._handled.popitem(last=False)
