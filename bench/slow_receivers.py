"""A national warning behind receivers that never answer: thousands of deliveries are stuck on
a few unresponsive webhook endpoints, then a missile warning (Exercise) goes out; how long does
it take to reach the healthy receivers? Prints one JSON object.

The same warning is first sent with no backlog (the baseline, same hub, same invocation), then
with ``--stuck`` deliveries queued on ``--stuck-endpoints`` endpoints of a server that accepts
and never answers (timeout 60 s). Latency is from the start of the publish request to each
healthy receiver's own arrival time. Goal: p99 ≤ 100 ms with 4,000 stuck.

Run from the project root: ``python -m bench.slow_receivers [--stuck 4000]
[--stuck-endpoints 10] [--healthy 20] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

from bench.fanout import _percentiles

ADMIN = "ac_slow-bench-admin-token-0123456789abcdefghijk"
EXERCISE = ["Actual", "Exercise"]


def _org(hub: HubProcess, body: dict[str, Any]) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    response = httpx.post(f"{hub.url}/api/v1/organizations", headers=admin, json=body)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _endpoint(hub: HubProcess, headers: dict[str, str], url: str, areas: list[str]) -> None:
    body = {
        "channel": "webhook",
        "url": url,
        "timeout_seconds": 60,
        "filter": {"areas": areas, "statuses": EXERCISE},
    }
    httpx.post(f"{hub.url}/api/v1/endpoints", json=body, headers=headers).raise_for_status()


def _warn(hub: HubProcess, headers: dict[str, str]) -> float:
    body = json.dumps({"kind": "missile", "areas": ["04"], "status": "Exercise"})
    connection = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=60)
    connection.connect()
    start = time.time()
    connection.request(
        "POST",
        "/api/v1/jp/national-warnings",
        body=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"warning refused: {response.status} {answer!r}")
    return start


def _rounds(
    hub: HubProcess, cas: dict[str, str], healthy: Receiver, count: int, rounds: int
) -> dict[str, Any]:
    latencies: list[float] = []
    for _ in range(rounds):
        before = len(healthy.received)
        start = _warn(hub, cas)
        try:
            until_blocking(lambda: len(healthy.received) >= before + count, 120)  # noqa: B023
        except AssertionError:
            raise RuntimeError(
                "the warning did not reach every healthy receiver in 120 s"
            ) from None
        latencies += [(r.at - start) * 1000 for r in healthy.received[before:]]
        time.sleep(0.3)
    return {"deliveries": len(latencies), **_percentiles(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stuck", type=int, default=4000)
    parser.add_argument("--stuck-endpoints", type=int, default=10)
    parser.add_argument("--healthy", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, Receiver() as stuck, Receiver() as healthy:
        hub = HubProcess(
            Path(tmp) / "hub", ADMIN, env={"ALERTCOMMONS_OUTBOUND_ALLOW": "127.0.0.0/8"}
        )
        hub.start()
        try:
            cas = _org(
                hub,
                {
                    "name": "内閣官房",
                    "kind": "issuer",
                    "sender": "cas.go.jp",
                    "jurisdiction": ["*"],
                },
            )
            city = _org(
                hub,
                {
                    "name": "千代田区",
                    "kind": "issuer",
                    "sender": "city.chiyoda.lg.jp",
                    "jurisdiction": ["13101"],
                },
            )
            rx = _org(hub, {"name": "receivers", "kind": "receiver"})
            for n in range(args.healthy):
                _endpoint(hub, rx, healthy.url(f"/ok/{n}"), ["04"])
            _warn(hub, cas)  # opens the kept-alive connections
            until_blocking(lambda: len(healthy.received) >= args.healthy, 60)
            baseline = _rounds(hub, cas, healthy, args.healthy, args.rounds)

            for n in range(args.stuck_endpoints):
                _endpoint(hub, rx, stuck.url(f"/hang/{n}"), ["13"])
            alerts = args.stuck // args.stuck_endpoints
            headers = {**city, **CAP_XML}
            with httpx.Client(base_url=hub.url, headers=headers, timeout=60) as client:
                for _ in range(alerts):
                    alert = make_alert("city.chiyoda.lg.jp", ["131016"], severity="Minor")
                    client.post("/api/v1/alerts", content=xml(alert)).raise_for_status()
            time.sleep(1.0)  # the stuck sends are out and hanging
            behind = _rounds(hub, cas, healthy, args.healthy, args.rounds)
            result = {
                "benchmark": "national warning behind unresponsive receivers",
                "stuck_deliveries": alerts * args.stuck_endpoints,
                "stuck_endpoints": args.stuck_endpoints,
                "healthy_receivers": args.healthy,
                "stuck_requests_open": len(stuck.received),
                "baseline_no_backlog": baseline,
                "behind_backlog": behind,
                "p99_ratio_to_baseline": round(behind["p99_ms"] / max(baseline["p99_ms"], 0.1), 2),
                "goal_p99_ms": 100,
            }
        finally:
            hub.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
