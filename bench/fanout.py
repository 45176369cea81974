"""Fan-out: one alert to N webhooks, to N SSE streams, and Mosquitto's fan-out beside it;
sustained webhook deliveries per second; the Atom feed under load. Prints one JSON object.

Everything runs on this machine: the hub (a real process, SQLite), the webhook receiver (a
separate process), the stream and MQTT clients (lean sockets in this process). Latency is from
the start of the publish request to each receiver's own arrival time.

Run from the project root: ``python -m bench.fanout [--webhooks 100,1000,5000]
[--streams 1000,10000] [--sustained 20000] [--feed-seconds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess, free_port

from bench.httpload import Connection
from bench.lean_clients import mqtt_subscriber, sse_client

ADMIN = "ac_fanout-bench-admin-token-0123456789abcdefghij"


def _percentiles(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    cuts = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else [ordered[0]] * 99
    )
    return {
        "p50_ms": round(cuts[49], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(ordered[-1], 1),
    }


class Bench:
    def __init__(self, hub: HubProcess, receiver_port: int) -> None:
        self.hub = hub
        self.receiver = f"http://127.0.0.1:{receiver_port}"
        admin = {"Authorization": f"Bearer {ADMIN}"}
        self.issuer = httpx.post(
            f"{hub.url}/api/v1/organizations",
            headers=admin,
            json={"name": "国", "kind": "issuer", "sender": "bench.go.jp", "jurisdiction": ["*"]},
        ).json()["token"]
        self.rx = httpx.post(
            f"{hub.url}/api/v1/organizations",
            headers=admin,
            json={"name": "rx", "kind": "receiver"},
        ).json()["token"]

    def endpoints(self, count: int, prefecture: str) -> None:
        headers = {"Authorization": f"Bearer {self.rx}"}
        with httpx.Client(base_url=self.hub.url, headers=headers, timeout=30) as client:
            for n in range(count):
                client.post(
                    "/api/v1/endpoints",
                    json={
                        "channel": "webhook",
                        "url": f"{self.receiver}/{prefecture}/{n}",
                        "filter": {"areas": [prefecture]},
                    },
                ).raise_for_status()

    def publish(self, code: str) -> tuple[str, float]:
        """Publish over a plain, already-open connection: the clock starts as the request goes."""
        body = xml(make_alert("bench.go.jp", [code]))
        headers = {"Authorization": f"Bearer {self.issuer}", **CAP_XML}
        connection = http.client.HTTPConnection("127.0.0.1", self.hub.port, timeout=60)
        connection.connect()
        start = time.time()
        connection.request("POST", "/api/v1/alerts", body=body, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
        if response.status != 201:
            raise RuntimeError(f"publish failed: {response.status} {answer}")
        return str(answer["id"]), start

    def arrivals(self, count: int, timeout: float = 120) -> list[tuple[float, str]]:
        deadline = time.monotonic() + timeout
        while True:
            got = httpx.get(f"{self.receiver}/stats", timeout=30).json()
            if len(got) >= count or time.monotonic() > deadline:
                return [(float(t), str(p)) for t, p, *_ in got]
            time.sleep(0.05)

    def webhooks(self, count: int, prefecture: str, rounds: int = 3) -> dict[str, Any]:
        """The first alert after the endpoints appear opens every connection ("cold"); the
        later ones find them kept alive ("warm")."""
        self.endpoints(count, prefecture)
        figures: dict[str, Any] = {"endpoints": count}
        for round_number in range(rounds):
            httpx.get(f"{self.receiver}/reset")
            _, start = self.publish(prefecture + "000")
            arrived = self.arrivals(count)
            latencies = [(t - start) * 1000 for t, _ in arrived]
            name = "cold" if round_number == 0 else f"warm_{round_number}"
            figures[name] = {"delivered": len(arrived), **_percentiles(latencies)}
            time.sleep(0.5)
        return figures

    def sustained(self, total: int, per_alert: int, prefecture: str) -> dict[str, Any]:
        self.endpoints(per_alert, prefecture)
        httpx.get(f"{self.receiver}/reset")
        alerts = total // per_alert
        first_start = None
        for _ in range(alerts):
            _, start = self.publish(prefecture + "000")
            first_start = first_start or start
        arrived = self.arrivals(alerts * per_alert)
        times = sorted(t for t, _ in arrived)
        span = times[-1] - times[0]
        return {
            "deliveries": len(times),
            "alerts": alerts,
            "endpoints": per_alert,
            "seconds": round(span, 3),
            "deliveries_per_s": round(len(times) / span),
        }


async def _streams(hub: HubProcess, bench: Bench, count: int, prefecture: str) -> dict[str, Any]:
    arrived: list[float] = []
    ready = [asyncio.Event() for _ in range(count)]
    path = f"/api/v1/stream?area={prefecture}"
    # Each stream's filter is a prefecture nothing else is published for: the first event
    # a client sees ("id: …") is the benchmark's alert.
    tasks = []
    for index in range(count):
        tasks.append(
            asyncio.create_task(sse_client(index, hub.port, path, "", ready[index], arrived))
        )
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 300)
    await asyncio.sleep(1.0)  # every stream registered with the hub
    _, start = await asyncio.to_thread(bench.publish, prefecture + "000")
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
    latencies = [(t - start) * 1000 for t in arrived]
    return {
        "streams": count,
        "reached": len(arrived),
        "time_to_all_ms": round(max(latencies), 1),
        **_percentiles(latencies),
    }


async def _mosquitto(count: int) -> dict[str, Any]:
    topic = f"bench/{time.time_ns()}"
    subscribed: list[int] = []
    arrived: list[float] = []
    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(mqtt_subscriber(index, 1883, topic, subscribed, arrived)))
        if index % 200 == 199:
            await asyncio.sleep(0.05)
    for _ in range(2400):
        if len(subscribed) >= count:
            break
        await asyncio.sleep(0.05)
    publisher = paho.Client(CallbackAPIVersion.VERSION2)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    payload = b"x" * 2048
    start = time.time()
    publisher.publish(topic, payload, qos=1).wait_for_publish(10)
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
    publisher.loop_stop()
    publisher.disconnect()
    latencies = [(t - start) * 1000 for t in arrived]
    return {
        "subscribers": count,
        "reached": len(arrived),
        "time_to_all_ms": round(max(latencies), 1) if latencies else None,
    }


async def _feed(port: int, seconds: float) -> dict[str, Any]:
    async def run(conditional: str | None) -> dict[str, Any]:
        connections = [Connection("127.0.0.1", port) for _ in range(16)]
        for connection in connections:
            await connection.open()
        statuses: list[int] = []
        deadline = time.perf_counter() + seconds
        headers = {"If-None-Match": conditional} if conditional else {}

        async def worker(connection: Connection) -> None:
            while time.perf_counter() < deadline:
                result = await connection.request("GET", "/feeds/all.atom", b"", headers)
                statuses.append(result.status)

        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
        elapsed = time.perf_counter() - start
        for connection in connections:
            await connection.close()
        return {"requests_per_s": round(len(statuses) / elapsed), "statuses": sorted(set(statuses))}

    first = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/feeds/all.atom")
    return {"full": await run(None), "conditional_304": await run(first.headers["etag"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--webhooks", default="100,1000,5000")
    parser.add_argument("--streams", default="1000,10000")
    parser.add_argument("--sustained", type=int, default=20000)
    parser.add_argument("--feed-seconds", type=float, default=5.0)
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "fanout", "store": "sqlite"}
    with tempfile.TemporaryDirectory() as data, contextlib.ExitStack() as stack:
        port = free_port()
        receiver = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver_proc", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(receiver.kill)
        assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
        hub = HubProcess(Path(data) / "hub", ADMIN)
        hub.start()
        stack.callback(hub.stop)
        bench = Bench(hub, port)
        prefectures = iter(f"{n:02d}" for n in range(1, 48))
        result["webhook_one_alert"] = [
            bench.webhooks(int(n), next(prefectures)) for n in args.webhooks.split(",") if n
        ]
        if args.sustained:
            result["webhook_sustained"] = bench.sustained(args.sustained, 5000, next(prefectures))
        for _ in range(50):  # the feed needs 50 entries
            bench.publish("47000")
        result["atom_feed_50_entries"] = asyncio.run(_feed(hub.port, args.feed_seconds))
        streams = []
        for n in (int(n) for n in args.streams.split(",") if n and int(n) > 0):
            figures = {"sse": asyncio.run(_streams(hub, bench, n, next(prefectures)))}
            with contextlib.suppress(OSError):
                figures["mosquitto_reference"] = asyncio.run(_mosquitto(n))
            streams.append(figures)
        result["streams"] = streams
    result["goals"] = {
        "webhook_1000_p99_ms": 50,
        "webhook_sustained_per_s": 20000,
        "sse_10000_time_to_all_ms": 250,
        "feed_requests_per_s": 3000,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
