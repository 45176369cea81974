"""A national surge through a cluster on this machine: PostgreSQL, a NATS server of its own,
three hub API nodes (``serve --no-dispatch``) and dispatch workers (``alertcommons dispatch``).
Prints one JSON object.

* surge: ``--alerts`` alerts published in ``--seconds`` seconds, spread evenly over time and
  round-robin over the three nodes, each to ``--receivers`` webhook endpoints (a receiver
  process of its own records each arrival); p50/p99 from the start of each publish request
  to each receiver's arrival, and the (alert, endpoint) pairs lost — not arrived within
  ``--grace`` seconds of the last publish;
* streams: ``--streams`` SSE clients spread over the three nodes (in client processes of their
  own: one process cannot hold 30,000 sockets under the usual descriptor limit), one alert
  published through the first node; the time until every client has it.

Run from the project root: ``python -m bench.cluster [--alerts 2000] [--seconds 60]
[--receivers 100] [--streams 30000] [--workers 2] [--poll-only] [--profile] [--no-floor]``.
Needs PostgreSQL (``tests/support/pg``) and ``nats-server``. Goals (issue 16): surge p99 ≤ 1 s and 0
lost; 30,000 streams ≤ 1 s.

The workers are woken through NATS by a publish on any node (``hub/wakeup.py``);
``--poll-only`` leaves them to find new deliveries by polling (0.25 s), as without NATS.
``--profile``: py-spy samples each worker and each node during the surge
(``artifacts/profiles/cluster-worker-N.txt``, ``cluster-node-N.txt``) and each node during
the streams' event (``cluster-streams-node-N.txt``), see ``bench/profiling.py``.

Beside the figures: what the machine was doing (``machine_before``, ``machine_after``: CPUs
and load average), the PostgreSQL deadlocks of the run, and a floor
measured in the same run with the same database and receiver: one publish→receipt with
nothing but the work the path cannot skip — a commit of a delivery row, a commit claiming it,
one POST to the receiver (``floor``; ``surge.ratio_p99_to_floor`` is our p99 ÷ its p99); for
the streams, as many bare ASGI SSE apps as nodes with the same clients, one event posted to
each at once (``streams.floor_bare_asgi``, ``streams.ratio_to_bare``; ``--no-floor`` skips it).
``time_to_all_by_node_ms``: the first node is the one published through, the others hear of
the alert through NATS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Nats, Worker, share_keys
from tests.support.pg import fresh_database
from tests.support.server import HubProcess, free_port

from bench import floors
from bench.fanout import _percentiles
from bench.lean_clients import sse_client
from bench.profiling import Profile

ADMIN = "ac_cluster-bench-admin-token-0123456789abcdefghi"
CLIENTS_PER_PROCESS = 8000
STREAM_AREA = "47"  # nothing else is published for Okinawa: a client's first event is ours


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Surge:
    def __init__(self, nodes: list[HubProcess], receiver_port: int) -> None:
        self.nodes = nodes
        self.receiver = f"http://127.0.0.1:{receiver_port}"
        admin = {"Authorization": f"Bearer {ADMIN}"}
        body = {"name": "国", "kind": "issuer", "sender": "bench.go.jp", "jurisdiction": ["*"]}
        self.issuer = httpx.post(
            f"{nodes[0].url}/api/v1/organizations", headers=admin, json=body
        ).json()["token"]
        self.rx = httpx.post(
            f"{nodes[1].url}/api/v1/organizations",
            headers=admin,
            json={"name": "rx", "kind": "receiver"},
        ).json()["token"]

    def endpoints(self, count: int, area: str) -> None:
        headers = {"Authorization": f"Bearer {self.rx}"}
        with httpx.Client(base_url=self.nodes[2].url, headers=headers, timeout=30) as client:
            for n in range(count):
                body = {
                    "channel": "webhook",
                    "url": f"{self.receiver}/r/{n}",
                    "filter": {"areas": [area]},
                }
                client.post("/api/v1/endpoints", json=body).raise_for_status()

    def publish(self, node: HubProcess, code: str) -> tuple[int, str, float]:
        """Status, alert id (or the refusal) and the time the request started."""
        body = xml(make_alert("bench.go.jp", [code]))
        headers = {"Authorization": f"Bearer {self.issuer}", **CAP_XML}
        connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
        connection.connect()
        start = time.time()
        connection.request("POST", "/api/v1/alerts", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        if response.status != 201:
            return response.status, answer.decode()[:200], start
        return 201, str(json.loads(answer)["id"]), start

    def run(self, alerts: int, seconds: float, receivers: int, grace: float) -> dict[str, Any]:
        self.endpoints(receivers, "13")
        httpx.get(f"{self.receiver}/reset")
        results: list[tuple[int, str, float]] = []
        lock = threading.Lock()

        def one(index: int) -> None:
            outcome = self.publish(self.nodes[index % len(self.nodes)], "13000")
            with lock:
                results.append(outcome)

        began = time.monotonic()
        interval = seconds / alerts if alerts else 0.0
        with ThreadPoolExecutor(32) as pool:
            for index in range(alerts):  # paced: the schedule does not wait for answers
                delay = began + index * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one, index)
        publishing = time.monotonic() - began
        accepted = {alert: start for status, alert, start in results if status == 201}
        expected = len(accepted) * receivers
        deadline = time.monotonic() + grace
        while True:  # until every pair has arrived, or the grace period is over
            count = int(httpx.get(f"{self.receiver}/count", timeout=30).text)
            if count >= expected or time.monotonic() > deadline:
                arrivals = httpx.get(f"{self.receiver}/stats", timeout=120).json()
                first: dict[tuple[str, str], float] = {}
                for at, path, alert in arrivals:
                    if alert in accepted:
                        first[(alert, path)] = min(first.get((alert, path), at), at)
                if len(first) >= expected or time.monotonic() > deadline:
                    break
            time.sleep(0.25)
        latencies = [(at - accepted[alert]) * 1000 for (alert, _), at in first.items()]
        refused: dict[str, int] = {}
        for status, _, _ in results:
            if status != 201:
                refused[str(status)] = refused.get(str(status), 0) + 1
        return {
            "alerts": alerts,
            "accepted": len(accepted),
            "refused_by_status": refused,
            "receivers_per_alert": receivers,
            "publish_seconds": round(publishing, 1),
            "deliveries_expected": expected,
            "delivered_pairs": len(first),
            "duplicates": len(arrivals) - len(first),
            "lost": expected - len(first),
            **(_percentiles(latencies) if latencies else {}),
        }


def _stream_count(nodes: list[HubProcess]) -> int:
    total = 0.0
    for node in nodes:
        metrics = httpx.get(f"{node.url}/metrics", timeout=30).text
        found = re.search(r"^alertcommons_stream_clients (\S+)$", metrics, re.MULTILINE)
        total += float(found.group(1)) if found else 0.0
    return int(total)


def streams(surge: Surge, count: int, profile: bool = False) -> dict[str, Any]:
    """The hub: one alert published through the first node reaches the others through NATS."""
    ports = [node.port for node in surge.nodes]
    profiles: list[Profile] = []

    def publish() -> float:
        if profile:
            for n, node in enumerate(surge.nodes):
                phase = f"cluster-streams-node-{n}"
                profiles.append(Profile(node.process.pid, phase, "stream event").start())
        status, alert, start = surge.publish(surge.nodes[0], STREAM_AREA + "000")
        if status != 201:
            raise RuntimeError(f"the stream alert was refused: {status} {alert}")
        return start

    path = f"/api/v1/stream?area={STREAM_AREA}"
    figures = _fan_out(ports, path, count, lambda: _stream_count(surge.nodes), publish)
    if profiles:
        per_node = count // len(surge.nodes)
        figures["profiles"] = [p.stop(per_node) for p in profiles]
    return figures


def streams_floor(count: int, nodes: int) -> dict[str, Any]:
    """The floor: as many bare ASGI SSE apps (bench/bare_apps.py, the same uvicorn) as nodes,
    the same clients spread the same way, an event of an alert's size posted to each at the
    same moment — the fan-out with nothing of the hub in it, nor the hop between nodes."""
    event = b"id: bare\nevent: alert\ndata: " + b"x" * 2048 + b"\n\n"
    with contextlib.ExitStack() as stack:
        ports = [
            stack.enter_context(floors.bare_server("bench.bare_apps:sse")) for _ in range(nodes)
        ]

        def registered() -> int:
            return sum(
                int(httpx.get(f"http://127.0.0.1:{port}/count", timeout=30).text) for port in ports
            )

        def publish() -> float:
            with ThreadPoolExecutor(len(ports)) as pool:
                starts = list(pool.map(lambda port: floors.publish_to_bare_sse(port, event), ports))
            return min(starts)

        return _fan_out(ports, "/stream", count, registered, publish)


def _fan_out(
    ports: list[int],
    path: str,
    count: int,
    registered: Callable[[], int],
    publish: Callable[[], float],
) -> dict[str, Any]:
    """``count`` SSE clients spread over ``ports`` (in client processes); ``publish()`` starts
    one event's fan-out and says when; the time until each client has it, per port too."""
    children = []
    for offset in range(0, count, CLIENTS_PER_PROCESS):
        size = min(CLIENTS_PER_PROCESS, count - offset)
        command = [sys.executable, "-m", "bench.cluster", "--clients", ",".join(map(str, ports))]
        command += [str(offset), str(size), path]
        children.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1))
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a stream-client process did not start: {line!r}")
        deadline = time.monotonic() + 120
        while registered() < count and time.monotonic() < deadline:
            time.sleep(0.2)
        connected = registered()
        start = publish()
        arrived: dict[str, list[float]] = {}
        for child in children:
            out, _ = child.communicate(timeout=180)
            for port, times in json.loads(out.strip().splitlines()[-1]).items():
                arrived.setdefault(port, []).extend(times)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    latencies = [(at - start) * 1000 for times in arrived.values() for at in times]
    by_port = {
        str(n): round(max(arrived[str(port)]) * 1000 - start * 1000, 1)
        for n, port in enumerate(ports)
        if arrived.get(str(port))
    }
    return {
        "streams": count,
        "registered": connected,
        "reached": len(latencies),
        "time_to_all_ms": round(max(latencies), 1) if latencies else None,
        **(_percentiles(latencies) if latencies else {}),
        "time_to_all_by_node_ms": by_port,
    }


async def _clients(ports: list[int], offset: int, size: int, path: str) -> dict[str, list[float]]:
    """In a child process: ``size`` SSE clients over the ports; when all are connected say
    ``ready``; return when each has had its first event (or after two minutes): the arrival
    times by port."""
    arrived: dict[str, list[float]] = {str(port): [] for port in ports}
    ready = [asyncio.Event() for _ in range(size)]
    tasks = []
    for n in range(size):
        index = offset + n
        port = ports[index % len(ports)]
        client = sse_client(index, port, path, "", ready[n], arrived[str(port)])
        tasks.append(asyncio.create_task(client))
        if n % 200 == 199:
            await asyncio.sleep(0.05)  # no burst beyond the listen queues
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), 300)
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
    return arrived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--receivers", type=int, default=100)
    parser.add_argument("--streams", type=int, default=30000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grace", type=float, default=60.0)
    parser.add_argument("--poll-only", action="store_true", help="workers not woken by NATS")
    parser.add_argument("--profile", action="store_true", help="py-spy on workers and nodes")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare SSE floor")
    parser.add_argument("--clients", nargs=4, help=argparse.SUPPRESS)  # a client process
    args = parser.parse_args()
    _raise_fd_limit()
    if args.clients:
        ports, offset, size, path = args.clients
        numbers = [int(p) for p in ports.split(",")]
        arrived = asyncio.run(_clients(numbers, int(offset), int(size), path))
        print(json.dumps(arrived), flush=True)
        return
    result: dict[str, Any] = {
        "benchmark": "cluster",
        "nodes": 3,
        "workers": args.workers,
        "store": "postgresql",
        "live_events": "nats",
        "workers_woken_by": "polling (0.25 s)" if args.poll_only else "nats, and polling",
        "profiled": args.profile,
        "machine_before": floors.machine(),
    }
    with (
        tempfile.TemporaryDirectory() as data,
        fresh_database() as url,
        contextlib.ExitStack() as stack,
    ):
        nats = Nats(Path(data) / "nats")
        nats.start()
        stack.callback(nats.stop)
        port = free_port()
        receiver = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver_proc", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(receiver.kill)
        assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
        env = {
            "ALERTCOMMONS_NATS_URL": nats.url,
            "ALERTCOMMONS_CLUSTER_NAME": f"b{uuid.uuid4().hex[:8]}",
            "ALERTCOMMONS_DISPATCH": "false",
            "ALERTCOMMONS_MAX_STREAM_CLIENTS": str(max(args.streams, 10000)),
            "ALERTCOMMONS_MAX_CONNECTIONS": str(max(args.streams, 10000) + 1000),
            "ALERTCOMMONS_MAX_SENT_AGE_SECONDS": "0",
        }
        nodes = [HubProcess(Path(data) / f"node{n}", ADMIN, url, env=env) for n in range(3)]
        nodes[0].start()
        stack.callback(nodes[0].stop)
        for node in nodes[1:]:
            share_keys(nodes[0].data_dir, node.data_dir)
            node.start()
            stack.callback(node.stop)
        wake = {} if args.poll_only else {"ALERTCOMMONS_NATS_URL": nats.url}
        workers = []
        for n in range(args.workers):
            directory = Path(data) / f"worker{n}"
            share_keys(nodes[0].data_dir, directory)
            cluster = env["ALERTCOMMONS_CLUSTER_NAME"]
            worker = Worker(
                directory, url, lease_seconds=30, ALERTCOMMONS_CLUSTER_NAME=cluster, **wake
            )
            workers.append(worker)
            stack.callback(worker.stop)
        result["floor"] = floor(url, port)
        surge = Surge(nodes, port)
        deadlocks = _deadlocks(url)
        profiles = []
        if args.profile:
            profiles = [
                Profile(w.process.pid, f"cluster-worker-{n}", "delivery").start()
                for n, w in enumerate(workers)
            ] + [
                Profile(node.process.pid, f"cluster-node-{n}", "publish").start()
                for n, node in enumerate(nodes)
            ]
        result["surge"] = surge.run(args.alerts, args.seconds, args.receivers, args.grace)
        result["surge"]["postgresql_deadlocks"] = _deadlocks(url) - deadlocks
        if profiles:
            per_worker = args.alerts * args.receivers // max(len(workers), 1)
            units = [per_worker] * len(workers) + [args.alerts] * len(nodes)
            result["profiles"] = [p.stop(u) for p, u in zip(profiles, units, strict=True)]
        p99, floor_p99 = result["surge"].get("p99_ms"), result["floor"].get("p99_ms")
        result["surge"]["ratio_p99_to_floor"] = floors.ratio(p99, floor_p99)
        if args.streams:
            result["streams"] = streams(surge, args.streams, args.profile)
    if args.streams and not args.no_floor:
        floor_streams = streams_floor(args.streams, len(nodes))
        result["streams"]["floor_bare_asgi"] = floor_streams
        result["streams"]["ratio_to_bare"] = floors.ratio(
            result["streams"]["time_to_all_ms"], floor_streams["time_to_all_ms"]
        )
    result["machine_after"] = floors.machine()
    result["goals"] = {"surge_p99_ms": 1000, "surge_lost": 0, "streams_30000_time_to_all_ms": 1000}
    print(json.dumps(result))


def _admin(url: str) -> str:
    """The database URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _deadlocks(url: str) -> int:
    """Deadlocks PostgreSQL has detected in the bench's database (a writer aborted)."""
    with psycopg.connect(_admin(url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def floor(url: str, receiver_port: int, rounds: int = 200) -> dict[str, Any]:
    """The path from publish to receipt with only what it cannot skip, one at a time, on the
    same PostgreSQL and receiver: commit a delivery row, commit its claim, POST it."""
    latencies = []
    with psycopg.connect(_admin(url)) as connection:
        # an ordinary table: a temporary one writes no WAL, so its commits would not wait for
        # the disk as the hub's do
        connection.execute("CREATE TABLE bench_floor (id text PRIMARY KEY, state text)")
        connection.commit()
        with contextlib.closing(
            http.client.HTTPConnection("127.0.0.1", receiver_port, timeout=30)
        ) as receiver:
            for n in range(rounds):
                start = time.perf_counter()
                connection.execute("INSERT INTO bench_floor VALUES (%s, 'pending')", (str(n),))
                connection.commit()
                connection.execute(
                    "UPDATE bench_floor SET state = 'sending' WHERE id = %s", (str(n),)
                )
                connection.commit()
                receiver.request("POST", "/floor", body=b"x", headers={"webhook-id": "floor"})
                receiver.getresponse().read()
                latencies.append((time.perf_counter() - start) * 1000)
        connection.execute("DROP TABLE bench_floor")
        connection.commit()
    httpx.get(f"http://127.0.0.1:{receiver_port}/reset")
    return {
        "what": "commit a row, commit its claim, POST it; one at a time",
        "rounds": rounds,
        **_percentiles(latencies),
    }


if __name__ == "__main__":
    main()
