"""Time from a new JMA feed entry to its delivery at a webhook receiver.

A local feed server serves the JMA samples as an Atom feed; the hub (its own process, SQLite)
polls it every ``--poll`` seconds; each new entry is fetched, converted, published as the JMA
and delivered to a real webhook receiver. Entries are added one at a time, so each figure is
one report's whole path: wait for the next poll + fetch + convert + sign + store + deliver.

Run: ``python -m bench.jma_feed [--poll 1.0] [--entries 20]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.jma_feed import FeedServer
from tests.support.receivers import Receiver
from tests.support.server import HubProcess

from alertcommons.jp.jma import convert

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jma-samples"
ADMIN = "bench-admin-token-0123456789abcdefghijkl"


def _reports(count: int) -> list[str]:
    """Sample files that become new Actual alerts of distinct events."""
    chosen, events = [], set()
    for path in sorted(SAMPLES.glob("*.xml")):
        converted = convert(path.read_bytes())
        alert = converted.alert
        if alert is None or alert.status != "Actual" or alert.msg_type != "Alert":
            continue
        if converted.event_base in events:
            continue
        events.add(converted.event_base)
        chosen.append(path.name)
        if len(chosen) == count:
            break
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    files = _reports(args.entries)
    with tempfile.TemporaryDirectory() as folder, FeedServer(SAMPLES) as feed, Receiver() as rx:
        hub = HubProcess(
            Path(folder) / "data",
            ADMIN,
            env={
                "ALERTCOMMONS_JMA_FEED_URL": feed.base_url,
                "ALERTCOMMONS_JMA_FEEDS": "extra",
                "ALERTCOMMONS_JMA_POLL_SECONDS": str(args.poll),
            },
        )
        hub.start()
        try:
            org = hub.org("受信", "receiver")
            httpx.post(
                f"{hub.url}/api/v1/endpoints",
                headers={"Authorization": f"Bearer {org['token']}"},
                json={"channel": "webhook", "url": rx.url("/ok/all")},
            ).raise_for_status()
            time.sleep(args.poll * 2)  # let the poller settle into its rhythm
            latencies = []
            for number, name in enumerate(files, start=1):
                feed.add("extra", name)
                deadline = time.monotonic() + 30 + args.poll * 3
                while len(rx.for_path("/ok/all")) < number and time.monotonic() < deadline:
                    time.sleep(0.005)
                arrived = rx.for_path("/ok/all")
                if len(arrived) < number:
                    raise SystemExit(f"{name} never arrived")
                latencies.append((arrived[-1].at - feed.added_at[name]) * 1000)
                time.sleep(args.poll * 0.37)  # land entries at different points of the cycle
        finally:
            hub.stop()
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "benchmark": "jma_feed_entry_to_webhook",
                "poll_seconds": args.poll,
                "entries": len(ordered),
                "mean_ms": round(statistics.fmean(ordered), 1),
                "p50_ms": round(ordered[len(ordered) // 2], 1),
                "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
                "max_ms": round(ordered[-1], 1),
                "note": "includes waiting for the next poll (on average half the interval)",
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
