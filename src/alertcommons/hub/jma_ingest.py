"""JMA feed ingest: poll the JMA's Atom feeds, convert new reports, publish them as the JMA.

Each feed is polled on its own loop with a conditional GET (``If-None-Match`` /
``If-Modified-Since``); entries already handled are remembered by id for as long as some feed
still lists them (a feed is a sliding window, so that memory is as big as the feeds and never
churns), and a report the hub already holds (same sender and identifier) is not published
twice, so a restart or an overlapping feed costs nothing but a look-up.

Every entry stands on its own: its report is fetched within per-read and whole-fetch time
limits (``jma_fetch``), only from the feed's host, and an entry that fails (a 500, a refused
link, a server trickling bytes) is retried on its own backoff while the entries after it go
ahead. A feed that cannot be fetched or read backs off as a whole, up to ten minutes. Reports
of one event are linked (``jma.follow``): a later report references the earlier alert
exactly, so receivers see updates and cancellations, not a pile of separate alerts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from alertcommons.auth.principal import Principal
from alertcommons.hub.jma_fetch import Fetched, Fetcher, FetchLimits, FetchRefused, LinkPolicy
from alertcommons.hub.metrics import Metrics
from alertcommons.hub.publish import Publisher
from alertcommons.hub.source_health import (
    HealthKeeper,
    SourceHealth,
    saved_health,
    stop_if_cancelled,
)
from alertcommons.hub.system_issuers import national_issuer
from alertcommons.jp import jma
from alertcommons.jp.feed import FEED_LIMITS, Entry, FeedError, read_feed
from alertcommons.problems import ProblemError
from alertcommons.settings import Settings
from alertcommons.store import alerts as alert_queries
from alertcommons.store.engine import Store

log = logging.getLogger("alertcommons.jma")

JMA_ORG_ID = "jma"
JMA_NAME = "気象庁"
MAX_BACKOFF_SECONDS = 600.0
FETCH_CONCURRENCY = 4  # reports of one poll fetched at once; published in feed order


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
    entries: list[Entry] = field(default_factory=list)  # as the feed last listed them
    listed: frozenset[str] = frozenset()
    result: str = "ok"  # of the last fetch: ok | not-modified
    health: SourceHealth = field(default_factory=SourceHealth)  # as CAP sources report it


@dataclass
class EntryRetry:
    url: str
    failures: int = 0
    next_at: float = 0.0  # time.monotonic()
    last_error: str = ""


@dataclass
class IngestCounts:
    published: int = 0
    duplicates: int = 0
    skipped: int = 0
    refused: int = 0
    errors: int = 0
    entry_failures: int = 0  # failed fetches or publishes, each retried on its own
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
        allowed_hosts: tuple[str, ...] = (),
        limits: FetchLimits | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.interval = interval
        base = base_url if base_url.endswith("/") else base_url + "/"
        self.fetcher = Fetcher(LinkPolicy(base, allowed_hosts), limits)
        self.feeds = {name: FeedState(name, urljoin(base, f"{name}.xml")) for name in feeds}
        self.counts = IngestCounts()
        self.metrics = metrics
        self._keepers = {name: HealthKeeper(store, f"jma:{name}", "jma") for name in feeds}
        self.problem: str | None = None  # why the ingest is not running, if it is not
        self._handled: set[str] = set()
        self._retry: dict[str, EntryRetry] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._principal: Principal | None = None

    @classmethod
    def from_settings(
        cls, store: Store, publisher: Publisher, settings: Settings, metrics: Metrics | None = None
    ) -> JMAIngest:
        assert settings.jma_feed_url is not None
        return cls(
            store,
            publisher,
            settings.jma_feed_url,
            _names(settings.jma_feeds),
            settings.jma_poll_seconds,
            allowed_hosts=_names(settings.jma_allowed_hosts),
            limits=FetchLimits(
                read_seconds=settings.jma_read_seconds, total_seconds=settings.jma_fetch_seconds
            ),
            metrics=metrics,
        )

    async def start(self) -> None:
        """Start polling. The feed is optional: whatever stops it (the JMA's sender already
        taken by an organization, say) is logged and reported, never a hub that won't start."""
        try:
            self._principal = await national_issuer(self.store, JMA_ORG_ID, JMA_NAME, jma.SENDER)
        except Exception as exc:
            self.problem = f"JMA feed ingest not started: {exc}"
            log.warning("%s", self.problem)
            return
        saved = await saved_health(self.store, "jma")
        for state in self.feeds.values():
            if f"jma:{state.name}" in saved:
                state.health = saved[f"jma:{state.name}"]
                self._keepers[state.name].restored(state.health)
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
            "running": bool(self._tasks),
            "problem": self.problem,
            "remembered_entries": len(self._handled),
            "retrying": [
                {
                    "url": r.url,
                    "failures": r.failures,
                    "last_error": r.last_error,
                    "seconds_to_retry": round(max(0.0, r.next_at - time.monotonic()), 1),
                }
                for r in list(self._retry.values())[:50]
            ],
            "entry_failures": self.counts.entry_failures,
            "published": self.counts.published,
            "duplicates": self.counts.duplicates,
            "skipped": self.counts.skipped,
            "refused": self.counts.refused,
            "errors": self.counts.errors,
            "median_ms_to_publish": recent[len(recent) // 2] if recent else None,
        }

    def sources(self) -> list[dict[str, Any]]:
        """The feeds as ``/api/v1/feeds/sources`` lists every source: the same fields."""
        return [
            {
                "id": f"jma:{s.name}",
                "name": f"jma:{s.name}",
                "kind": "jma",
                "origin": "settings",
                "editable": False,
                "active": bool(self._tasks),
                "url": s.url,
                "directory": None,
                "organization": JMA_ORG_ID,
                "signed_only": False,
                "allow_unsigned": True,
                "allowed_hosts": sorted(self.fetcher.policy.hosts),
                "certificates": [],
                "poll_seconds": self.interval,
                "created_at": None,
                "updated_at": None,
                "polled_here": bool(self._tasks),
                "polled_by": None,
                **s.health.to_dict(),
            }
            for s in self.feeds.values()
        ]

    async def _run(self, state: FeedState) -> None:
        while True:
            started = state.health.began()
            error = None
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
                error = state.last_error or type(exc).__name__
                delay = min(self.interval * 2**state.failures, MAX_BACKOFF_SECONDS)
                log.warning("JMA feed %s failed (%s); next try in %.0f s", state.name, exc, delay)
            result = "error" if error is not None else state.result
            state.health.ended(started, result, error)
            if self.metrics is not None:
                seconds = (state.health.last_duration_ms or 0.0) / 1000
                self.metrics.source_fetched(f"jma:{state.name}", result, seconds)
            await self._keepers[state.name].save(state.health)
            stop_if_cancelled()
            await asyncio.sleep(delay)

    async def poll(self, state: FeedState) -> int:
        """One conditional GET of one feed, then the entries due: those not handled yet and
        not waiting out a backoff. Returns how many were published."""
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        state.polls += 1
        state.last_poll = time.monotonic()
        fetched = await self.fetcher.get(state.url, headers, FEED_LIMITS.max_bytes)
        state.result = "not-modified" if fetched.status == 304 else "ok"
        if fetched.status == 304:
            state.not_modified += 1
        elif fetched.status != 200:
            raise OSError(f"{state.url}: HTTP {fetched.status}")
        else:
            try:
                entries = read_feed(fetched.body, state.url)
            except FeedError as exc:
                raise OSError(f"{state.url}: {exc}") from None
            state.entries = entries
            state.listed = frozenset(entry.id for entry in entries)
            state.etag = fetched.headers.get("etag")
            state.last_modified = fetched.headers.get("last-modified")
            self._forget_unlisted()
        # Entries waiting out a backoff are taken on a 304 as well: the feed did not change,
        # but their turn came.
        return await self._take_due(state.entries, time.monotonic(), state.health)

    def _forget_unlisted(self) -> None:
        """Keep memory of exactly the entries some feed still lists: one that dropped out of
        every feed will not come back, and one still listed is never forgotten."""
        live: set[str] = set()
        for state in self.feeds.values():
            live |= state.listed
        self._handled &= live
        for entry_id in [i for i in self._retry if i not in live]:
            del self._retry[entry_id]

    async def _take_due(
        self, entries: Iterable[Entry], seen_at: float, health: SourceHealth | None = None
    ) -> int:
        health = health or SourceHealth()  # the feed's own, which it reports
        now = time.monotonic()
        due: dict[str, Entry] = {}
        for entry in entries:
            retry = self._retry.get(entry.id)
            if entry.id in self._handled or (retry is not None and retry.next_at > now):
                continue
            due.setdefault(entry.id, entry)
        if not due:
            return 0
        # Reports are fetched a few at once, so a slow one delays the rest by at most one
        # fetch's time limit; they are published in feed order, so an event's reports chain.
        gate = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def fetch(entry: Entry) -> Fetched:
            async with gate:
                return await self.fetcher.get(entry.url, {}, jma.JMA_LIMITS.max_bytes)

        tasks = [(entry, asyncio.create_task(fetch(entry))) for entry in due.values()]
        published = 0
        try:
            for entry, task in tasks:
                try:
                    published += await self._take(entry, await task, seen_at, health)
                except asyncio.CancelledError:
                    raise
                except FetchRefused as exc:  # a link that will never be followed: done with
                    self.counts.errors += 1
                    self._refused(health, "link", f"{entry.url}: {exc}")
                    log.warning("JMA feed entry %s refused: %s", entry.id, exc)
                except Exception as exc:
                    self._failed(entry, exc)
                    health.warn(f"{entry.url}: {str(exc) or type(exc).__name__}")
                    continue
                self._handled.add(entry.id)
                self._retry.pop(entry.id, None)
        finally:
            for _, task in tasks:
                task.cancel()
        return published

    def _failed(self, entry: Entry, exc: BaseException) -> None:
        retry = self._retry.setdefault(entry.id, EntryRetry(entry.url))
        retry.failures += 1
        delay = min(self.interval * 2 ** (retry.failures - 1), MAX_BACKOFF_SECONDS)
        retry.next_at = time.monotonic() + delay
        retry.last_error = (str(exc) or type(exc).__name__)[:300]
        self.counts.entry_failures += 1
        log.warning(
            "JMA report %s failed (%s); that entry is tried again in %.0f s",
            entry.url,
            retry.last_error,
            delay,
        )

    def _refused(self, health: SourceHealth, reason: str, warning: str) -> None:
        health.refused += 1
        health.warn(warning)
        if self.metrics is not None:
            name = self._feed_of(health)
            if name:
                self.metrics.source_refused_one(name, reason)

    def _feed_of(self, health: SourceHealth) -> str:
        """The metrics' source label of the feed whose health this is."""
        return next((f"jma:{s.name}" for s in self.feeds.values() if s.health is health), "")

    async def _take(
        self, entry: Entry, fetched: Fetched, seen_at: float, health: SourceHealth
    ) -> int:
        url = entry.url
        if fetched.status in (404, 410):  # gone for good: waiting would achieve nothing
            self.counts.errors += 1
            self._refused(health, "gone", f"{url}: HTTP {fetched.status}")
            log.warning("JMA report %s: HTTP %s", url, fetched.status)
            return 0
        if fetched.status != 200:
            raise OSError(f"{url}: HTTP {fetched.status}")
        try:
            converted = jma.convert(fetched.body)
        except jma.JMAError as exc:
            self.counts.errors += 1
            self._refused(health, "not-jma", f"{url}: cannot be read: {exc}")
            log.warning("JMA report %s cannot be read: %s", url, exc)
            return 0
        if converted.alert is None:
            self.counts.skipped += 1
            return 0
        alert = converted.alert
        held, previous = await self.store.read(
            lambda c: (
                alert_queries.find(c, jma.SENDER, alert.identifier or "") is not None,
                alert_queries.latest_of_event(
                    c, jma.SENDER, converted.event_base, alert.status or "Actual"
                ),
            )
        )
        if held:
            self.counts.duplicates += 1
            health.duplicates += 1
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
            self._refused(health, "rejected", f"{alert.identifier}: refused: {exc}")
            log.warning("JMA report %s refused: %s", url, exc)
            return 0
        if not outcome.created:
            self.counts.duplicates += 1
            health.duplicates += 1
            return 0
        self.counts.published += 1
        health.published += 1
        feed = self._feed_of(health)
        if self.metrics is not None and feed:
            self.metrics.source_republished.labels(feed).inc()
        if not any(a.geocodes or a.polygons or a.circles for i in linked.infos for a in i.areas):
            health.without_areas += 1
            health.warn(f"{alert.identifier}: no usable area ({converted.type})")
            if self.metrics is not None and feed:
                self.metrics.source_without_areas.labels(feed).inc()
        self.counts.latencies_ms.append((time.monotonic() - seen_at) * 1000)
        del self.counts.latencies_ms[:-1000]
        log.info("JMA %s → alert %s (%s)", converted.type, outcome.alert_id, url)
        return 1


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())
