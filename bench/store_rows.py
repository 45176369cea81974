"""What the store costs per delivery row, beside the driver's own floor: the publish's insert
of the delivery rows (``insert_many``), the claim (``claim_due``) and the outcome writes
(``record``), on a fresh SQLite file, in this process; the floor is ``sqlite3``'s
``executemany`` of the same insert with the values already as the driver wants them.

Run from the project root: ``python -m bench.store_rows [--rows 1000] [--rounds 5]``
(a few seconds). Prints one JSON object: µs per row for each step (best of the rounds).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, LargeBinary, create_engine, insert

from alertcommons.store import deliveries as queries
from alertcommons.store.engine import sqlite_url
from alertcommons.store.ids import new_id
from alertcommons.store.schema import alerts, metadata
from bench import floors


def _alert(connection: Connection, now: datetime) -> str:
    alert_id = new_id()
    row = {c.name: None for c in alerts.c}
    values = {"id": alert_id, "sender": "bench.go.jp", "identifier": alert_id}
    for column in alerts.c:
        if not column.nullable and row[column.name] is None and column.name not in values:
            kind = repr(column.type)
            values[column.name] = (
                now if "DateTime" in kind else b"x" if isinstance(column.type, LargeBinary) else "x"
            )
    connection.execute(insert(alerts), [values])
    return alert_id


def _best(rounds: int, rows: int, step: Callable[[], None]) -> float:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        step()
        timings.append(time.perf_counter() - began)
    return round(min(timings) / rows * 1e6, 2)


def run(rows: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        # the hub's SQLite file without its connection set-up (no foreign keys to an
        # organization to make): the rows and statements are the hub's
        engine = create_engine(sqlite_url(Path(data)))
        metadata.create_all(engine)
        now = datetime.now(UTC)
        endpoint_ids = [new_id() for _ in range(rows)]
        timings: dict[str, float] = {}
        with engine.connect() as connection:
            alert_ids = [_alert(connection, now) for _ in range(rounds)]
            connection.commit()
            batches = iter(alert_ids)

            def insert_rows() -> None:
                alert_id = next(batches)
                queries.insert_many(
                    connection,
                    [
                        {
                            "id": new_id(),
                            "alert_id": alert_id,
                            "endpoint_id": endpoint,
                            "priority": 3,
                            "state": "pending",
                            "due_at": now,
                            "attempts": 0,
                            "created_at": now,
                            "expires_at": now + timedelta(hours=1),
                            "site_id": None,
                            "route": None,
                            "claimed_until": None,  # set when handed off at publish
                        }
                        for endpoint in endpoint_ids
                    ],
                )

            timings["insert_many"] = _best(rounds, rows, insert_rows)
            claimed: list[queries.Claimed] = []

            def claim() -> None:
                got = queries.claim_due(connection, limit=rows, lease=timedelta(seconds=30))
                claimed.extend(got.claimed)

            timings["claim_due"] = _best(rounds, rows, claim)
            outcomes = iter(
                [
                    queries.Outcome(c.id, c.endpoint_id, "delivered", latency_ms=3.0, at=now)
                    for c in claimed[index * rows : (index + 1) * rows]
                ]
                for index in range(rounds)
            )
            timings["record"] = _best(
                rounds, rows, lambda: queries.record(connection, next(outcomes))
            )
            connection.rollback()
        engine.dispose()
        floor_db = sqlite3.connect(Path(data) / "floor.db")
        floor_db.execute(
            "create table d (id text primary key, alert_id text, endpoint_id text,"
            " priority int, state text, due_at text, attempts int, created_at text,"
            " expires_at text, site_id text, route int, claimed_until text)"
        )
        stamp = now.replace(tzinfo=None).isoformat(" ")

        def raw_insert() -> None:
            floor_db.executemany(
                "insert into d values (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (new_id(), "a", e, 3, "pending", stamp, 0, stamp, stamp, None, None, None)
                    for e in endpoint_ids
                ],
            )

        timings["floor_sqlite3_executemany_insert"] = _best(rounds, rows, raw_insert)
        floor_db.close()
    store_total = timings["insert_many"] + timings["claim_due"] + timings["record"]
    return {
        "benchmark": "store_rows",
        "store": "sqlite",
        "rows": rows,
        "us_per_row": timings,
        "store_us_per_delivery": round(store_total, 2),
        "ratio_insert_to_floor": floors.ratio(
            timings["insert_many"], timings["floor_sqlite3_executemany_insert"]
        ),
        "machine": floors.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.rounds)))


if __name__ == "__main__":
    main()
