"""What an operator watches, in Prometheus' text format: publishes, deliveries by channel and
result, publish-to-delivery latency, the queue (depth and oldest due), live-stream clients and
how live events travel between nodes; and for each source the hub reads (CAP feeds and
folders, JMA feeds, labelled ``source``): fetches by result, the last success, alerts
republished, refused (by a reason from a fixed list) and without a usable area.

Each hub process has its own registry (nothing global): the counters are this process's, the
queue figures are the database's, read when scraped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select

from alertcommons.store.deliveries import Outcome
from alertcommons.store.schema import deliveries

# Why a source's alert was refused: a fixed list, so a hostile feed cannot grow the labels.
REFUSAL_REASONS = ("signature", "not-cap", "not-jma", "rejected", "link", "gone", "other")
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.publishes = Counter(
            "alertcommons_publishes",
            "Alerts accepted by this process: stored, or a repeat of one stored before",
            ["result"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "alertcommons_deliveries",
            "Delivery attempts settled by this process, by channel and result",
            ["channel", "result"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "alertcommons_publish_to_delivery_seconds",
            "From the alert's receipt to the receiver's answer",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.source_fetches = Counter(
            "alertcommons_source_fetches",
            "Fetches of a source's feed (or look at its folder), by result",
            ["source", "result"],
            registry=self.registry,
        )
        self.source_last_success = Gauge(
            "alertcommons_source_last_success_timestamp_seconds",
            "When a fetch of the source last succeeded (Unix time)",
            ["source"],
            registry=self.registry,
        )
        self.source_duration = Gauge(
            "alertcommons_source_last_fetch_seconds",
            "How long the source's last fetch took",
            ["source"],
            registry=self.registry,
        )
        self.source_republished = Counter(
            "alertcommons_source_alerts_republished",
            "Alerts of a source published on this hub",
            ["source"],
            registry=self.registry,
        )
        self.source_refused = Counter(
            "alertcommons_source_alerts_refused",
            "Alerts of a source refused, by reason",
            ["source", "reason"],
            registry=self.registry,
        )
        self.source_without_areas = Counter(
            "alertcommons_source_alerts_without_areas",
            "Alerts of a source with no code, polygon or circle to match receivers on",
            ["source"],
            registry=self.registry,
        )
        self._gauges: _Gauges | None = None
        self._settled: dict[tuple[str, str], tuple[Any, Any]] = {}

    def published(self, created: bool) -> None:
        self.publishes.labels("stored" if created else "repeat").inc()

    def settled(self, channel: str, outcome: Outcome) -> None:
        # once per delivery: each (channel, result)'s series is looked up once, not per call
        # (``labels`` takes a lock and builds its key every time)
        key = (channel, outcome.state)
        series = self._settled.get(key)
        if series is None:
            result = {"pending": "retry"}.get(outcome.state, outcome.state)
            series = self._settled[key] = (
                self.deliveries.labels(channel, result),
                self.latency.labels(channel),
            )
        series[0].inc()
        if outcome.latency_ms is not None:
            series[1].observe(outcome.latency_ms / 1000)

    def source_fetched(self, source: str, result: str, seconds: float) -> None:
        self.source_fetches.labels(source, result).inc()
        self.source_duration.labels(source).set(seconds)
        if result != "error":
            self.source_last_success.labels(source).set_to_current_time()

    def source_refused_one(self, source: str, reason: str) -> None:
        reason = reason if reason in REFUSAL_REASONS else "other"
        self.source_refused.labels(source, reason).inc()

    def watch(self, queue: tuple[int, float | None], streams: int, live: str) -> None:
        """The figures read at scrape time (the caller reads the database off the loop)."""
        if self._gauges is None:
            self._gauges = _Gauges()
            self.registry.register(self._gauges)
        self._gauges.values = (queue, streams, live)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def queue_figures(connection: Connection) -> tuple[int, float | None]:
    """Deliveries not yet settled, and how long the oldest due one has waited (seconds)."""
    waiting = deliveries.c.state.in_(("pending", "sending"))
    count, oldest = connection.execute(
        select(func.count(), func.min(deliveries.c.due_at)).where(waiting)
    ).one()
    if oldest is None:
        return int(count), None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max((datetime.now(UTC) - oldest).total_seconds(), 0.0)


class _Gauges(Collector):
    def __init__(self) -> None:
        self.values: tuple[tuple[int, float | None], int, str] = ((0, None), 0, "local")

    def collect(self) -> Iterator[Any]:
        (depth, oldest), streams, live = self.values
        yield GaugeMetricFamily(
            "alertcommons_queue_depth", "Deliveries pending or being sent", value=depth
        )
        yield GaugeMetricFamily(
            "alertcommons_queue_oldest_seconds",
            "How long the oldest pending delivery has been due",
            value=oldest or 0.0,
        )
        yield GaugeMetricFamily(
            "alertcommons_stream_clients", "Live-stream clients of this process", value=streams
        )
        family = GaugeMetricFamily(
            "alertcommons_live_events",
            "How live events reach this node (1: the current way)",
            labels=["via"],
        )
        for via in ("local", "nats", "database"):
            family.add_metric([via], 1.0 if via == live else 0.0)
        yield family
