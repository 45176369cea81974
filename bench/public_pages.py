"""The public pages under load, as when everyone looks at once after an earthquake.

A hub process (SQLite) holds ``--alerts`` alerts in force across Tokyo's municipalities; 16
kept-alive connections fetch the index (`/`) and one alert page (`/alerts/{id}`, with its
signature check and QR code) for ``--seconds`` each. Prints JSON: requests per second and
latency percentiles; then the Atom feed of 50 entries beside a bare ASGI app answering the
same bytes on the same server, with the ratio.

Run: ``python -m bench.public_pages [--alerts 50] [--seconds 5] [--profile] [--feed-only]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess

from alertcommons.jp.codes import registry, with_check_digit
from bench import floors
from bench.httpload import Connection
from bench.profiling import Profile

ADMIN = "bench-admin-token-0123456789abcdefghijkl"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pid(port: int) -> int:
    """The pid of the process started with ``--port {port}`` (the bare server), or 0."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--port" in args and args[
                args.index(b"--port") + 1 : 2 + args.index(b"--port")
            ] == [str(port).encode()]:
                return int(entry.name)
    return 0


async def _load(
    port: int,
    path: str,
    seconds: float,
    headers: dict[str, str] | None = None,
    server_pid: int = 0,
) -> dict[str, Any]:
    """``path`` fetched over 16 kept-alive connections for ``seconds``. Beside the rate: the
    share of a core this client used (near 1.0, the client is the limit, not the server) and
    the server's CPU per request."""
    connections = [Connection("127.0.0.1", port) for _ in range(16)]
    for connection in connections:
        await connection.open()
    latencies: list[float] = []
    statuses: set[int] = set()
    deadline = time.perf_counter() + seconds

    async def worker(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            result = await connection.request("GET", path, b"", headers or {})
            statuses.add(result.status)
            latencies.append(result.latency * 1000)

    start, client_cpu = time.perf_counter(), time.process_time()
    server_cpu = _cpu_seconds(server_pid) if server_pid else 0.0
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu
    server_cpu = _cpu_seconds(server_pid) - server_cpu if server_pid else 0.0
    for connection in connections:
        await connection.close()
    latencies.sort()
    return {
        "requests_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
        "statuses": sorted(statuses),
        "client_cpu_share": round(client_cpu / elapsed, 2),
        **(
            {"server_cpu_us_per_request": round(server_cpu * 1e6 / max(len(latencies), 1), 1)}
            if server_pid
            else {}
        ),
    }


def feed_against_bare(hub: HubProcess, seconds: float, profile: bool = False) -> dict[str, Any]:
    """``/feeds/all.atom`` under load, then a bare ASGI app answering its very bytes."""
    first = httpx.get(f"{hub.url}/feeds/all.atom")
    first.raise_for_status()
    with tempfile.NamedTemporaryFile(suffix=".atom", delete=False) as body:
        body.write(first.content)
    env = {"BARE_BODY_FILE": body.name, "BARE_CONTENT_TYPE": first.headers["content-type"]}
    try:
        with floors.bare_server("bench.bare_apps:fixed", env) as port:
            bare_pid = _server_pid(port)
            bare = asyncio.run(_load(port, "/feeds/all.atom", seconds, server_pid=bare_pid))
    finally:
        os.unlink(body.name)
    pid = hub.process.pid if hub.process else 0
    sampler = Profile(pid, "public-feed", "request").start() if profile and pid else None
    ours = asyncio.run(_load(hub.port, "/feeds/all.atom", seconds, server_pid=pid))
    if sampler is not None:
        ours["profile"] = sampler.stop(round(ours["requests_per_s"] * seconds))
    conditional = asyncio.run(
        _load(
            hub.port,
            "/feeds/all.atom",
            seconds / 2,
            {"If-None-Match": first.headers["etag"]},
            server_pid=pid,
        )
    )
    return {
        "entries": first.text.count("<entry"),
        "bytes": len(first.content),
        "hub": ours,
        "hub_conditional_304": conditional,
        "floor_bare_asgi": bare,
        "ratio": floors.ratio(ours["requests_per_s"], bare["requests_per_s"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--profile", action="store_true", help="py-spy the hub on the feed")
    parser.add_argument("--feed-only", action="store_true", help="skip the index and alert page")
    args = parser.parse_args()
    machine = floors.machine()
    towns = sorted(code for code in registry().municipalities if code.startswith("13"))
    with tempfile.TemporaryDirectory() as folder:
        hub = HubProcess(Path(folder) / "data", ADMIN)
        hub.start()
        try:
            tokyo = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
            headers = {"Authorization": f"Bearer {tokyo['token']}", **CAP_XML}
            first = ""
            for number in range(args.alerts):
                code = with_check_digit(towns[number % len(towns)])
                alert = make_alert("metro.tokyo.jp", [code])
                response = httpx.post(
                    f"{hub.url}/api/v1/alerts", content=xml(alert), headers=headers
                )
                response.raise_for_status()
                first = first or response.json()["id"]
            pid = hub.process.pid if hub.process else 0
            results = {}
            if not args.feed_only:
                results["index"] = asyncio.run(_load(hub.port, "/", args.seconds, server_pid=pid))
                page = f"/alerts/{first}"
                results["alert_page"] = asyncio.run(
                    _load(hub.port, page, args.seconds, server_pid=pid)
                )
            results["atom_feed_50_entries"] = feed_against_bare(hub, args.seconds, args.profile)
        finally:
            hub.stop()
    print(
        json.dumps(
            {
                "benchmark": "public_pages",
                "alerts_in_force": args.alerts,
                "machine": machine,
                **results,
                "goal_feed": "≥ half the bare app (ratio ≥ 0.5)",
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
