"""Publishing throughput and latency of a real hub process, on SQLite and PostgreSQL.

For each store: a hub on a free port; many issuers; first a closed loop of concurrent
publishers (accepted alerts per second: validate + authorize + sign + commit), then an open
loop at half that rate (p50/p99 request latency). Prints one JSON object.

Run from the project root: ``python -m bench.ingest [--seconds N] [--concurrency N]
[--stores sqlite,postgresql] [--nodes N] [--profile]``; ``--profile`` has py-spy sample the hub
(the first node) during the closed loop (bench/profiling.py: top costs per publish in
artifacts/profiles/). ``--nodes N`` (PostgreSQL only; SQLite has one hub process) runs N hub
processes on the one database, as a cluster is deployed, the publishers spread over them
round-robin; the figures are then ``postgresql-<N>-nodes``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from tests.support.alerts import make_alert, xml
from tests.support.cluster import share_keys
from tests.support.pg import fresh_database
from tests.support.server import HubProcess

from bench import floors
from bench.httpload import Connection, Result
from bench.profiling import Profile

ADMIN = "ac_bench-admin-token-0123456789abcdefghijklmnopqrs"
ISSUERS = 20


def _issuers(base: str) -> list[tuple[str, str]]:
    out = []
    for number in range(ISSUERS):
        sender = f"bench{number}.example.jp"
        body = {
            "name": f"bench {number}",
            "kind": "issuer",
            "sender": sender,
            "jurisdiction": ["13"],
        }
        response = httpx.post(
            f"{base}/api/v1/organizations", json=body, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        response.raise_for_status()
        out.append((sender, response.json()["token"]))
    return out


def _bodies(issuers: list[tuple[str, str]], count: int) -> list[tuple[bytes, dict[str, str]]]:
    bodies = []
    for number in range(count):
        sender, token = issuers[number % len(issuers)]
        alert = make_alert(sender, ["131016"], identifier=f"bench-{time.time_ns()}-{number}")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"}
        bodies.append((xml(alert), headers))
    return bodies


async def _closed_loop(ports: list[int], bodies: list, concurrency: int, seconds: float) -> dict:
    queue = iter(bodies)
    results: list[Result] = []
    deadline = time.perf_counter() + seconds

    async def worker(port: int) -> None:
        connection = Connection("127.0.0.1", port)
        await connection.open()
        try:
            while time.perf_counter() < deadline:
                try:
                    body, headers = next(queue)
                except StopIteration:
                    return
                results.append(await connection.request("POST", "/api/v1/alerts", body, headers))
        finally:
            await connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(ports[n % len(ports)]) for n in range(concurrency)))
    elapsed = time.perf_counter() - start
    accepted = sum(1 for r in results if r.status == 201)
    return {
        "accepted_per_s": round(accepted / elapsed, 1),
        "requests": len(results),
        "non_201": len(results) - accepted,
        **_percentiles(results),
    }


async def _open_loop(ports: list[int], bodies: list, rate: float, seconds: float) -> dict:
    count = int(rate * seconds)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for n in range(64):
        connection = Connection("127.0.0.1", ports[n % len(ports)])
        await connection.open()
        pool.put_nowait(connection)
    results: list[Result] = []

    async def one(body: bytes, headers: dict[str, str]) -> None:
        connection = await pool.get()
        try:
            results.append(await connection.request("POST", "/api/v1/alerts", body, headers))
        finally:
            pool.put_nowait(connection)

    start = time.perf_counter()
    tasks = []
    for number in range(count):
        await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(*bodies[number])))
    await asyncio.gather(*tasks)
    while not pool.empty():
        await pool.get_nowait().close()
    return {
        "rate_per_s": round(rate, 1),
        "requests": len(results),
        "non_201": sum(1 for r in results if r.status != 201),
        **_percentiles(results),
    }


def _percentiles(results: list[Result]) -> dict:
    latencies = sorted(r.latency * 1000 for r in results)
    if not latencies:
        return {}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(latencies[-1], 2),
    }


def run_store(
    store: str, seconds: float, concurrency: int, profile: bool = False, nodes: int = 1
) -> dict:
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_database()) if store == "postgresql" else None
        hubs = [HubProcess(data / f"hub{n}", ADMIN, url) for n in range(nodes)]
        for hub in hubs:
            if hub is not hubs[0]:  # one cluster: every node has the first one's keys
                share_keys(hubs[0].data_dir, hub.data_dir)
            hub.start()
            stack.callback(hub.stop)
        ports = [hub.port for hub in hubs]
        issuers = _issuers(hubs[0].url)
        bodies = _bodies(issuers, int(seconds * 3000) + 100)
        pid = hubs[0].process.pid if hubs[0].process else 0
        phase = f"ingest-{store}" + (f"-{nodes}-nodes" if nodes > 1 else "")
        sampler = Profile(pid, phase, "publish").start() if profile and pid else None
        closed = asyncio.run(_closed_loop(ports, bodies, concurrency, seconds))
        if sampler is not None:
            # the first node's share of the publishes: the profile is of that node
            closed["profile"] = sampler.stop((closed["requests"] - closed["non_201"]) // nodes)
        fresh = _bodies(issuers, int(closed["accepted_per_s"] * 0.5 * seconds) + 10)
        half = asyncio.run(_open_loop(ports, fresh, closed["accepted_per_s"] * 0.5, seconds))
        return {"nodes": nodes, "closed_loop": closed, "open_loop_half_rate": half}


def _summary(figures: dict) -> list[dict]:
    """Each figure of the issue's table beside its goal (ingest has no bare floor: a publish
    is validation, signing and a durable commit, which nothing bare does)."""
    goals = {"sqlite": 1000, "postgresql": 600}
    rows = []
    for name, result in figures.items():
        store = name.split("-", 1)[0]
        rate = result["closed_loop"]["accepted_per_s"]
        rows.append(
            {
                "measure": f"accepted alerts/s, {name}",
                "hub": rate,
                "goal": f"≥ {goals.get(store, 0)}",
                "met": rate >= goals.get(store, 0),
            }
        )
        p99 = result["open_loop_half_rate"].get("p99_ms")
        rows.append(
            {
                "measure": f"p99 at half that rate, {name} (ms)",
                "hub": p99,
                "goal": "≤ 50 ms" if store == "sqlite" else "—",
                "met": (p99 is not None and p99 <= 50) if store == "sqlite" else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true", help="py-spy the hub per store")
    parser.add_argument(
        "--nodes", type=int, default=1, help="hub processes on the PostgreSQL database"
    )
    args = parser.parse_args()
    machine = floors.machine()
    figures = {}
    for store in args.stores.split(","):
        nodes = args.nodes if store == "postgresql" else 1
        name = f"{store}-{nodes}-nodes" if nodes > 1 else store
        figures[name] = run_store(store, args.seconds, args.concurrency, args.profile, nodes)
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "seconds": args.seconds,
                "concurrency": args.concurrency,
                "goal_sqlite_per_s": 1000,
                "goal_p99_ms_at_half_rate": 50,
                "goal_postgresql_per_s": 600,
                "machine": machine,
                **figures,
                "summary": _summary(figures),
            }
        )
    )


if __name__ == "__main__":
    main()
