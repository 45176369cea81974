"""A municipality's registered districts and designated evacuation sites: plain queries.

An import replaces a municipality's set (of districts, or of sites of the kinds the file
holds) with a delete and inserts in the caller's transaction, so readers see the old set or
the new one, never a mix; the same statements on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text

from alertcommons.store.schema import jp_designated_sites, jp_districts


@dataclass(frozen=True, slots=True)
class DistrictRow:
    name: str
    kana: str | None
    geometry: dict[str, Any]  # GeoJSON Polygon or MultiPolygon


@dataclass(frozen=True, slots=True)
class SiteRow:
    kind: str  # emergency_site | shelter
    site_id: str
    name: str
    kana: str | None
    address: str
    lat: float
    lon: float
    capacity: int | None
    hazards: tuple[str, ...]
    note: str | None


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


def replace_districts(connection: Connection, code: str, rows: Sequence[DistrictRow]) -> int:
    """Make ``rows`` the municipality's districts; return how many there were before."""
    _take_turn(connection, _DISTRICTS_LOCK, code)
    before = connection.execute(
        delete(jp_districts).where(jp_districts.c.municipality == code)
    ).rowcount
    now = datetime.now(UTC)
    if rows:
        connection.execute(
            insert(jp_districts),
            [
                {
                    "municipality": code,
                    "name": row.name,
                    "kana": row.kana,
                    "geometry": json.dumps(row.geometry, separators=(",", ":")),
                    "position": number,
                    "imported_at": now,
                }
                for number, row in enumerate(rows)
            ],
        )
    return int(before or 0)


def districts(connection: Connection, code: str) -> list[DistrictRow]:
    rows = connection.execute(
        select(jp_districts)
        .where(jp_districts.c.municipality == code)
        .order_by(jp_districts.c.position)
    )
    return [DistrictRow(r.name, r.kana, json.loads(r.geometry)) for r in rows]


def replace_sites(
    connection: Connection, code: str, kinds: Iterable[str], rows: Sequence[SiteRow]
) -> int:
    """Make ``rows`` the municipality's sites of ``kinds``; return how many there were."""
    _take_turn(connection, _SITES_LOCK, code)
    before = connection.execute(
        delete(jp_designated_sites).where(
            jp_designated_sites.c.municipality == code,
            jp_designated_sites.c.kind.in_(list(kinds)),
        )
    ).rowcount
    now = datetime.now(UTC)
    if rows:
        connection.execute(
            insert(jp_designated_sites),
            [
                {
                    "municipality": code,
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
                    "position": number,
                    "imported_at": now,
                }
                for number, row in enumerate(rows)
            ],
        )
    return int(before or 0)


def sites(connection: Connection, code: str, kind: str | None = None) -> list[SiteRow]:
    query = select(jp_designated_sites).where(jp_designated_sites.c.municipality == code)
    if kind is not None:
        query = query.where(jp_designated_sites.c.kind == kind)
    rows = connection.execute(
        query.order_by(jp_designated_sites.c.kind, jp_designated_sites.c.position)
    )
    return [
        SiteRow(
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
