"""Fan-out, each figure beside its floor measured in the same invocation: one alert to N
webhooks (cold and warm) and sustained webhook deliveries per second against a raw asyncio
HTTP/1.1 writer posting to the same receiver; one alert to N SSE streams against a bare ASGI
SSE app with the same clients, and the benchmark's own Mosquitto (limits raised) with the same
number of subscribers; the Atom feed against a bare app answering its bytes. Prints one JSON
object; ``summary`` lists every figure with its floor, the ratio and the goal.

Everything runs on this machine: the hub (a real process, SQLite), the webhook receiver (a
separate process), the stream and MQTT clients (lean sockets in ``--client-processes``
processes of their own, the same for the hub, the bare app and Mosquitto; 0: in this process).
Latency is from the start of the publish request to each receiver's own arrival time.

Run from the project root: ``python -m bench.fanout [--webhooks 100,1000] [--streams
1000,10000] [--sustained 20000] [--feed-seconds 5] [--profile]``. A quick run (< 60 s):
``python -m bench.fanout --webhooks 200 --streams 1000 --sustained 2000 --feed-seconds 2``.
``--profile``: py-spy samples the hub per phase; see bench/profiling.py.
``--workers N``: the webhook phases run twice, first with the hub sending (in-process
dispatch), then with a hub started with ``--no-dispatch`` and N ``alertcommons dispatch``
processes on the same SQLite file (``webhook_one_alert_workers``, ``webhook_sustained_workers``;
each beside its own raw-writer floor). When NATS answers on 127.0.0.1:4222 the hub announces
each stored alert there and the workers wake on it at once (``workers_woken_by``: ``NATS``);
otherwise they find it at their next poll, every 0.25 s, which a one-alert latency includes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Worker, share_keys
from tests.support.server import HubProcess, free_port

from alertcommons.store.engine import sqlite_url
from bench import floors
from bench.lean_clients import (
    CLIENT_PROCESSES,
    ClientProcesses,
    MQTTPublisher,
    mqtt_subscriber,
    sse_client,
)
from bench.profiling import Profile
from bench.public_pages import feed_against_bare

ADMIN = "ac_fanout-bench-admin-token-0123456789abcdefghij"
WARM_ROUNDS = 2


def _percentiles(latencies_ms: list[float]) -> dict[str, float]:
    if not latencies_ms:
        return {}
    ordered = sorted(latencies_ms)
    cuts = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else [ordered[0]] * 99
    )
    return {
        "first_ms": round(ordered[0], 1),
        "p50_ms": round(cuts[49], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(ordered[-1], 1),
    }


class Bench:
    def __init__(self, hub: HubProcess, receiver_port: int, profile: bool) -> None:
        self.hub = hub
        self.receiver_port = receiver_port
        self.receiver = f"http://127.0.0.1:{receiver_port}"
        self.profile = profile
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
        self.body = b""  # a published alert's signed CAP XML: what the raw writer posts
        self.prefectures: Iterator[str] = iter(())  # those not yet used for a phase

    def profiler(self, phase: str, unit: str) -> Profile | None:
        if not self.profile or self.hub.process is None:
            return None
        return Profile(self.hub.process.pid, phase, unit).start()

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
        if not self.body:
            self.body = httpx.get(f"{self.hub.url}/api/v1/alerts/{answer['id']}/cap").content
        return str(answer["id"]), start

    def reset(self) -> None:
        httpx.get(f"{self.receiver}/reset")

    def arrivals(self, count: int, timeout: float = 120) -> list[float]:
        deadline = time.monotonic() + timeout
        while True:
            got = httpx.get(f"{self.receiver}/stats", timeout=30).json()
            if len(got) >= count or time.monotonic() > deadline:
                return [float(t) for t, *_ in got]
            time.sleep(0.02)

    def _rounds(self, count: int, go: Callable[[], float]) -> dict[str, Any]:
        """A cold round (connections opened) and warm rounds (kept alive): arrival latencies."""
        figures: dict[str, Any] = {}
        warm: list[float] = []
        for number in range(1 + WARM_ROUNDS):
            self.reset()
            start = go()
            latencies = [(t - start) * 1000 for t in self.arrivals(count)]
            if number == 0:
                figures["cold"] = {"delivered": len(latencies), **_percentiles(latencies)}
            else:
                warm += latencies
            time.sleep(0.3)
        figures["warm"] = {"delivered": len(warm) // WARM_ROUNDS, **_percentiles(warm)}
        return figures

    def webhooks(self, count: int, prefecture: str) -> dict[str, Any]:
        """The first alert after the endpoints appear opens every connection ("cold"); the
        later ones find them kept alive ("warm"). The raw writer does the same, to the same
        receiver, with the same body, just before."""
        self.endpoints(count, prefecture)
        if not self.body:
            self.publish("47000")  # nothing listens there: only the body is wanted
        paths = [f"/raw{prefecture}/{n}" for n in range(count)]
        writer = floors.RawWriter(self.receiver_port)
        try:
            floor = self._rounds(count, lambda: writer.send(paths, self.body))
        finally:
            writer.close()
        profile = self.profiler(f"fanout-webhooks-{count}", "delivery")
        ours = self._rounds(count, lambda: self.publish(prefecture + "000")[1])
        if profile:
            ours["profile"] = profile.stop(count * (1 + WARM_ROUNDS))
        return {
            "endpoints": count,
            "hub": ours,
            "floor_raw_writer": floor,
            "ratio_warm_p99": floors.ratio(ours["warm"].get("p99_ms"), floor["warm"].get("p99_ms")),
            "ratio_cold_p99": floors.ratio(ours["cold"].get("p99_ms"), floor["cold"].get("p99_ms")),
        }

    def sustained(self, total: int, prefecture: str) -> dict[str, Any]:
        per_alert = min(5000, max(total // 4, 1))
        alerts = max(total // per_alert, 1)
        self.endpoints(per_alert, prefecture)
        writer = floors.RawWriter(self.receiver_port)
        try:
            self.reset()
            writer.send([f"/raw{prefecture}/{n}" for n in range(alerts * per_alert)], self.body)
            floor = _rate(self.arrivals(alerts * per_alert))
        finally:
            writer.close()
        self.reset()
        profile = self.profiler("fanout-webhook-sustained", "delivery")
        for _ in range(alerts):
            self.publish(prefecture + "000")
        arrived = self.arrivals(alerts * per_alert)
        ours = {"alerts": alerts, "endpoints": per_alert, **_rate(arrived)}
        if profile:
            ours["profile"] = profile.stop(ours["deliveries"])
        return {
            "hub": ours,
            "floor_raw_writer": floor,
            "ratio": floors.ratio(ours["deliveries_per_s"], floor["deliveries_per_s"]),
        }


def _rate(times: list[float]) -> dict[str, Any]:
    times = sorted(times)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "deliveries": len(times),
        "seconds": round(span, 3),
        "deliveries_per_s": round(len(times) / span) if span else None,
    }


async def _sse_clients(
    count: int,
    port: int,
    path: str,
    registered: Callable[[], int],
    trigger: Callable[[], float],
    profiler: Callable[[], Profile | None] = lambda: None,
) -> dict[str, Any]:
    """``count`` lean SSE clients in this process (``--client-processes 0``: how the figures
    were taken before); once all are registered, ``trigger`` (in a thread) sends one event;
    latency from its start to each client's arrival. A profile covers the fan-out only."""
    arrived: list[float] = []
    ready = [asyncio.Event() for _ in range(count)]
    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(sse_client(index, port, path, "", ready[index], arrived)))
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 300)
    await asyncio.to_thread(_until_registered, registered, count)
    profile = await asyncio.to_thread(profiler)
    start = await asyncio.to_thread(trigger)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
    return _stream_figures(count, count, arrived, start, profile)


def _sse_client_processes(
    count: int,
    processes: int,
    port: int,
    path: str,
    registered: Callable[[], int],
    trigger: Callable[[], float],
    profiler: Callable[[], Profile | None] = lambda: None,
) -> dict[str, Any]:
    """The same with the clients spread over ``processes`` processes (bench/lean_clients.py):
    the hub, the bare app and Mosquitto are measured with the same clients, none of which is
    then the bottleneck."""
    clients = ClientProcesses("sse", port, path, count, processes)
    try:
        connected = clients.connect()
        _until_registered(registered, count)
        profile = profiler()
        start = trigger()
        arrived = clients.arrivals()
    finally:
        clients.close()
    return _stream_figures(count, connected, arrived, start, profile)


def _until_registered(registered: Callable[[], int], count: int) -> None:
    for _ in range(300):  # every stream registered with the server, within a minute
        if registered() >= count:
            return
        time.sleep(0.2)


def _stream_figures(
    count: int, connected: int, arrived: list[float], start: float, profile: Profile | None
) -> dict[str, Any]:
    latencies = [(t - start) * 1000 for t in arrived]
    figures: dict[str, Any] = {
        "clients": count,
        "connected": connected,
        "reached": len(arrived),
        "time_to_all_ms": round(max(latencies), 1) if latencies else None,
        # the first arrival: the publish (for the hub: checks, signing, commit, the read for
        # the streams) before the fan-out itself
        "first_ms": round(min(latencies), 1) if latencies else None,
        **_percentiles(latencies),
    }
    if profile is not None:
        figures["profile"] = profile.stop(len(arrived))
    return figures


def _hub_streams(hub: HubProcess) -> int:
    for line in httpx.get(f"{hub.url}/metrics", timeout=30).text.splitlines():
        if line.startswith("alertcommons_stream_clients "):
            return int(float(line.split()[1]))
    return 0


def _bare_streams(port: int) -> int:
    return int(httpx.get(f"http://127.0.0.1:{port}/count", timeout=30).text)


def streams(bench: Bench, count: int, prefecture: str, processes: int) -> dict[str, Any]:
    """One event to ``count`` clients of a bare ASGI SSE app, of the hub (one alert, its
    commit included) and of Mosquitto (one QoS 1 publish), the same clients for all three:
    in ``processes`` client processes, or this process if 0."""
    # Each stream's filter is a prefecture nothing else is published for: the first event
    # a client sees ("id: …") is the benchmark's alert. The bare app sends an event of the
    # same size.
    if not bench.body:
        bench.publish("47000")  # nothing listens there: only its size is wanted
    event = b"id: bare\nevent: alert\ndata: " + b"x" * max(len(bench.body), 2048) + b"\n\n"

    def measure(
        port: int,
        path: str,
        registered: Callable[[], int],
        trigger: Callable[[], float],
        profiler: Callable[[], Profile | None] = lambda: None,
    ) -> dict[str, Any]:
        if processes:
            return _sse_client_processes(
                count, processes, port, path, registered, trigger, profiler
            )
        return asyncio.run(_sse_clients(count, port, path, registered, trigger, profiler))

    with floors.bare_server("bench.bare_apps:sse") as port:
        floor = measure(
            port,
            "/stream",
            lambda: _bare_streams(port),
            lambda: floors.publish_to_bare_sse(port, event),
        )
    ours = measure(
        bench.hub.port,
        f"/api/v1/stream?area={prefecture}",
        lambda: _hub_streams(bench.hub),
        lambda: bench.publish(prefecture + "000")[1],
        lambda: bench.profiler(f"fanout-streams-{count}", "stream event"),
    )
    figures: dict[str, Any] = {
        "streams": count,
        "client_processes": processes or "in the benchmark's process",
        "hub": ours,
        "floor_bare_asgi": floor,
    }
    with floors.mosquitto() as mqtt_port:
        if mqtt_port is None:
            figures["mosquitto"] = {"error": "mosquitto is not installed"}
        else:
            try:
                figures["mosquitto"] = (
                    _mosquitto_processes(count, mqtt_port, processes)
                    if processes
                    else asyncio.run(_mosquitto(count, mqtt_port))
                )
            except OSError as exc:
                figures["mosquitto"] = {"error": str(exc)}
    figures["ratio_to_bare"] = floors.ratio(ours["time_to_all_ms"], floor["time_to_all_ms"])
    mosquitto_ms = figures["mosquitto"].get("time_to_all_ms")
    figures["ratio_to_mosquitto"] = floors.ratio(ours["time_to_all_ms"], mosquitto_ms)
    return figures


async def _mosquitto(count: int, port: int) -> dict[str, Any]:
    topic = f"bench/{time.time_ns()}"
    subscribed: list[int] = []
    arrived: list[float] = []
    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(mqtt_subscriber(index, port, topic, subscribed, arrived)))
        if index % 200 == 199:
            await asyncio.sleep(0.05)
    for _ in range(2400):  # every SUBACK, within two minutes
        if len(subscribed) >= count:
            break
        await asyncio.sleep(0.05)
    publisher = MQTTPublisher(port)
    await publisher.connect()
    start = await publisher.publish(topic, b"x" * 2048)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    publisher.close()
    return _mosquitto_figures(count, len(subscribed), arrived, start)


def _mosquitto_processes(count: int, port: int, processes: int) -> dict[str, Any]:
    topic = f"bench/{time.time_ns()}"
    clients = ClientProcesses("mqtt", port, topic, count, processes)
    try:
        subscribed = clients.connect()

        async def publish() -> float:
            publisher = MQTTPublisher(port)
            await publisher.connect()
            try:
                return await publisher.publish(topic, b"x" * 2048)
            finally:
                publisher.close()

        start = asyncio.run(publish())
        arrived = clients.arrivals()
    finally:
        clients.close()
    return _mosquitto_figures(count, subscribed, arrived, start)


def _mosquitto_figures(
    count: int, subscribed: int, arrived: list[float], start: float
) -> dict[str, Any]:
    latencies = [(t - start) * 1000 for t in arrived]
    return {
        "subscribers": count,
        "subscribed": subscribed,
        "reached": len(arrived),
        "time_to_all_ms": round(max(latencies), 1) if latencies else None,
        "first_ms": round(min(latencies), 1) if latencies else None,
        **_percentiles(latencies),
    }


def _row(
    measure: str, ours: Any, floor: Any, goal: str, met: bool | None, floor_name: str
) -> dict[str, Any]:
    return {
        "measure": measure,
        "hub": ours,
        "floor": floor,
        "floor_is": floor_name,
        "ratio": floors.ratio(ours, floor) if isinstance(ours, int | float) else None,
        "goal": goal,
        "met": met,
    }


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = _webhook_rows(result, "")
    if "dispatch_workers" in result:
        suffix = f", {result['dispatch_workers']} dispatch worker processes"
        rows += _webhook_rows(
            {
                "webhook_one_alert": result.get("webhook_one_alert_workers", []),
                **(
                    {"webhook_sustained": result["webhook_sustained_workers"]}
                    if "webhook_sustained_workers" in result
                    else {}
                ),
            },
            suffix,
        )
    return rows + _other_rows(result)


def _webhook_rows(result: dict[str, Any], suffix: str) -> list[dict[str, Any]]:
    rows = []
    for figures in result.get("webhook_one_alert", []):
        n = figures["endpoints"]
        warm = figures["hub"]["warm"].get("p99_ms")
        floor_warm = figures["floor_raw_writer"]["warm"].get("p99_ms")
        met = warm is not None and warm <= 50 and warm <= 3 * (floor_warm or 0)
        rows.append(
            _row(
                f"one alert → {n} webhooks, p99 incl. commit, warm (ms){suffix}",
                warm,
                floor_warm,
                "≤ 50 ms and ≤ 3 times the raw writer" if n == 1000 else "—",
                met if n == 1000 else None,
                "raw asyncio writer, same receiver",
            )
        )
        cold = figures["hub"]["cold"].get("p99_ms")
        rows.append(
            _row(
                f"the same, cold (first alert) (ms), {n} webhooks{suffix}",
                cold,
                figures["floor_raw_writer"]["cold"].get("p99_ms"),
                "≤ 100 ms" if n == 1000 else "—",
                (cold is not None and cold <= 100) if n == 1000 else None,
                "raw asyncio writer opening its connections",
            )
        )
    if "webhook_sustained" in result:
        sustained = result["webhook_sustained"]
        rate = sustained["hub"]["deliveries_per_s"]
        rows.append(
            _row(
                f"sustained webhook deliveries/s{suffix}",
                rate,
                sustained["floor_raw_writer"]["deliveries_per_s"],
                "≥ 20,000",
                rate is not None and rate >= 20000,
                "raw asyncio writer, same receiver",
            )
        )
    return rows


def _other_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for figures in result.get("streams", []):
        n = figures["streams"]
        ours = figures["hub"]["time_to_all_ms"]
        mosquitto_ms = figures["mosquitto"].get("time_to_all_ms")
        reached_all = figures["hub"]["reached"] == n
        rows.append(
            _row(
                f"one alert → {n} SSE streams, time to all (ms)",
                ours,
                figures["floor_bare_asgi"]["time_to_all_ms"],
                "≤ 250 ms and < Mosquitto" if n == 10000 else "< Mosquitto",
                reached_all
                and ours is not None
                and (ours <= 250 or n != 10000)
                and (mosquitto_ms is None or ours < mosquitto_ms),
                "bare ASGI SSE app, same clients",
            )
        )
        mosquitto = figures["mosquitto"]
        rows.append(
            _row(
                f"Mosquitto beside it, {n} subscribers, time to all (ms)",
                mosquitto_ms,
                None,
                f"a figure (reached {mosquitto.get('reached', 0)} of {n})",
                mosquitto.get("reached") == n,
                "—",
            )
        )
    if "atom_feed_50_entries" in result:
        feed = result["atom_feed_50_entries"]
        rows.append(
            _row(
                "Atom feed of 50 entries, req/s",
                feed["hub"]["requests_per_s"],
                feed["floor_bare_asgi"]["requests_per_s"],
                "≥ half of a bare ASGI app answering the same bytes",
                feed["ratio"] is not None and feed["ratio"] >= 0.5,
                "bare ASGI app, the same bytes",
            )
        )
    return rows


NATS_URL = "nats://127.0.0.1:4222"


def _nats_reachable() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 4222), 1):
        return True
    return False


def _webhook_phases(
    data: Path, receiver_port: int, args: argparse.Namespace, workers: int
) -> tuple[dict[str, Any], Bench, contextlib.ExitStack]:
    """One hub (sending itself, or with ``workers`` dispatch processes beside it) through the
    webhook phases. Answers the figures, and the hub still running for the other phases."""
    stack = contextlib.ExitStack()
    env = {"ALERTCOMMONS_DISPATCH": "false"} if workers else {}
    if workers and _nats_reachable():
        # the hub announces each stored alert on NATS and the workers wake on it at once,
        # as in a cluster; without NATS they find it at their next poll (0.25 s)
        env |= {
            "ALERTCOMMONS_NATS_URL": NATS_URL,
            "ALERTCOMMONS_CLUSTER_NAME": f"fanout{free_port()}",
        }
    hub = HubProcess(data / ("hub-workers" if workers else "hub"), ADMIN, env=env)
    hub.start()
    stack.callback(hub.stop)
    for n in range(workers):
        directory = data / f"worker{n}"
        share_keys(hub.data_dir, directory)
        worker = Worker(directory, sqlite_url(hub.data_dir), 30, (), **env)
        stack.callback(worker.stop)
    bench = Bench(hub, receiver_port, args.profile)
    prefectures = iter(f"{n:02d}" for n in range(1, 47))
    figures: dict[str, Any] = {
        "dispatch": f"{workers} worker processes" if workers else "in-process",
        "workers_woken_by": ("NATS" if "ALERTCOMMONS_NATS_URL" in env else "polling")
        if workers
        else None,
    }
    figures["webhook_one_alert"] = [
        bench.webhooks(int(n), next(prefectures)) for n in args.webhooks.split(",") if int(n or 0)
    ]
    if args.sustained:
        figures["webhook_sustained"] = bench.sustained(args.sustained, next(prefectures))
    bench.prefectures = prefectures
    return figures, bench, stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--webhooks", default="100,1000")
    parser.add_argument("--streams", default="1000,10000")
    parser.add_argument("--sustained", type=int, default=20000)
    parser.add_argument("--feed-seconds", type=float, default=5.0)
    parser.add_argument("--profile", action="store_true", help="py-spy the hub per phase")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=CLIENT_PROCESSES,
        help="processes the stream and MQTT clients run in (0: the benchmark's own)",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="also measure N dispatch worker processes"
    )
    args = parser.parse_args()
    floors.raise_file_limit()
    started = time.monotonic()
    result: dict[str, Any] = {"benchmark": "fanout", "store": "sqlite", "profiled": args.profile}
    result["machine_before"] = floors.machine()
    with tempfile.TemporaryDirectory() as data, contextlib.ExitStack() as stack:
        port = free_port()
        receiver = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver_proc", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(receiver.kill)
        assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
        if args.workers:
            figures, _, hub_stack = _webhook_phases(Path(data), port, args, args.workers)
            hub_stack.close()  # one hub at a time: the two do not compete for the cores
            result["dispatch_workers"] = args.workers
            result["workers_woken_by"] = figures["workers_woken_by"]
            result["webhook_one_alert_workers"] = figures["webhook_one_alert"]
            if "webhook_sustained" in figures:
                result["webhook_sustained_workers"] = figures["webhook_sustained"]
        figures, bench, hub_stack = _webhook_phases(Path(data), port, args, 0)
        stack.enter_context(hub_stack)
        result.update({k: v for k, v in figures.items() if k != "workers_woken_by"})
        if args.feed_seconds:
            for _ in range(50):  # the feed needs 50 entries
                bench.publish("47000")
            result["atom_feed_50_entries"] = feed_against_bare(bench.hub, args.feed_seconds)
        result["streams"] = [
            streams(bench, n, next(bench.prefectures), args.client_processes)
            for n in (int(n) for n in args.streams.split(",") if n)
            if n > 0
        ]
    result["machine_after"] = floors.machine()
    result["seconds"] = round(time.monotonic() - started, 1)
    result["summary"] = summary(result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
