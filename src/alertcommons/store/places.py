"""A municipality's registered districts and designated evacuation sites: plain queries.

An import replaces a municipality's set (of districts, or of sites of the kinds the file
holds) with a delete and inserts in the caller's transaction, so readers see the old set or
the new one, never a mix; the same statements on SQLite and PostgreSQL. The rows are the
import's own records (``jp/places_import.py``): what was read is what is stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, func, insert, select, text

from alertcommons.jp.places_import import District, Site
from alertcommons.store.schema import jp_designated_sites, jp_districts

# Keys of the transaction locks that make one municipality's imports take turns (with the
# municipality's code as the second key).
_DISTRICTS_LOCK, _SITES_LOCK = 0x4A50_0001, 0x4A50_0002


def _take_turn(connection: Connection, table: int, code: str) -> None:
    """Wait for another import of the same set to commit. PostgreSQL writes on several
    connections: without this, two imports at once each delete what their snapshot shows and
    both files' rows stay. SQLite has one writer, so imports already take turns."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:table, :code)"),
            {"table": table, "code": int(code)},
        )


def replace_districts(connection: Connection, code: str, rows: Sequence[District]) -> int:
    """Make ``rows`` the municipality's districts; return how many there were before."""
    records = [
        {
            "name": row.name,
            "kana": row.kana,
            "geometry": json.dumps(row.geometry, separators=(",", ":")),
        }
        for row in rows
    ]
    return _replace(connection, jp_districts, _DISTRICTS_LOCK, code, records)


def districts(connection: Connection, code: str) -> list[District]:
    rows = connection.execute(
        select(jp_districts)
        .where(jp_districts.c.municipality == code)
        .order_by(jp_districts.c.position)
    )
    return [District(r.name, r.kana, json.loads(r.geometry)) for r in rows]


def replace_sites(
    connection: Connection, code: str, kinds: Iterable[str], rows: Sequence[Site]
) -> int:
    """Make ``rows`` the municipality's sites of ``kinds``; return how many there were."""
    records = [
        {
            "kind": row.kind,
            "site_id": row.site_id,
            "name": row.name,
            "kana": row.kana,
            "address": row.address,
            "lat": row.lat,
            "lon": row.lon,
            "capacity": row.capacity,
            "hazards": json.dumps(list(row.hazards)),
            "note": row.note,
        }
        for row in rows
    ]
    only_kinds = jp_designated_sites.c.kind.in_(list(kinds))
    return _replace(connection, jp_designated_sites, _SITES_LOCK, code, records, only_kinds)


def _replace(
    connection: Connection,
    table: Table,
    lock: int,
    code: str,
    records: list[dict[str, Any]],
    *only: ColumnElement[bool],
) -> int:
    """Delete the municipality's rows of ``table`` (those matching ``only``) and insert
    ``records`` in their order; how many rows there were before."""
    _take_turn(connection, lock, code)
    before = connection.execute(delete(table).where(table.c.municipality == code, *only)).rowcount
    now = datetime.now(UTC)
    if records:
        connection.execute(
            insert(table),
            [
                {"municipality": code, **record, "position": number, "imported_at": now}
                for number, record in enumerate(records)
            ],
        )
    return int(before or 0)


def sites(connection: Connection, code: str, kind: str | None = None) -> list[Site]:
    query = select(jp_designated_sites).where(jp_designated_sites.c.municipality == code)
    if kind is not None:
        query = query.where(jp_designated_sites.c.kind == kind)
    rows = connection.execute(
        query.order_by(jp_designated_sites.c.kind, jp_designated_sites.c.position)
    )
    return [
        Site(
            r.kind,
            r.site_id,
            r.name,
            r.kana,
            r.address,
            r.lat,
            r.lon,
            r.capacity,
            tuple(json.loads(r.hazards)),
            r.note,
        )
        for r in rows
    ]


def counts(connection: Connection, code: str) -> dict[str, int]:
    """How many districts and sites of each kind the municipality has registered."""
    found = {
        "districts": int(
            connection.execute(
                select(func.count()).where(jp_districts.c.municipality == code)
            ).scalar_one()
        )
    }
    rows = connection.execute(
        select(jp_designated_sites.c.kind, func.count())
        .where(jp_designated_sites.c.municipality == code)
        .group_by(jp_designated_sites.c.kind)
    )
    for kind, number in rows:
        found[str(kind)] = int(number)
    return found
