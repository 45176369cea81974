"""Importing a municipality's districts and designated evacuation sites; listing them.

One place for both imports and their audit records, shared by the API (``api/places.py``),
the console (``web/places.py``) and the command line (``commands/places.py``). A file is
parsed whole first (``jp/places_import.py``): any problem refuses it with every problem
listed, and nothing changes. A good file replaces the municipality's set (its districts, or
its sites of the kinds the file holds) in one transaction with its audit record, so readers
see the old set or the new one.

Who may import: an issuer whose jurisdiction covers the municipality, or an admin; the
command line works on the database directly, as its operator. A district must also pass the
check every published polygon passes (``auth/geometry.py``), so a registered district can
always be issued for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shapely.geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from alertcommons import pools
from alertcommons.auth.geometry import MAX_POINTS, first_outside
from alertcommons.auth.principal import Principal
from alertcommons.geo.boundaries import boundaries
from alertcommons.hub.services import Services
from alertcommons.jp import places_import, romaji
from alertcommons.jp.codes import CodeError, name_of, normalize
from alertcommons.jp.places_import import District, FileRefused, Place, Site
from alertcommons.jp.site_columns import HAZARDS, KINDS
from alertcommons.problems import Forbidden, Unprocessable
from alertcommons.store import audit
from alertcommons.store import places as place_queries


class ImportRefused(Unprocessable):
    """A file with problems: ``errors`` lists each with its line."""

    slug, title = "invalid-file", "The file cannot be imported"


def municipality(code: str, path: str = "code") -> str:
    """The canonical 5-digit code of a municipality, or a 422 saying why not (at ``path``,
    the field the code came in)."""
    try:
        canonical = normalize(code)
    except CodeError as exc:
        raise Unprocessable(str(exc), path=path) from None
    if len(canonical) != 5:
        raise Unprocessable("give a municipality code, not a prefecture", path=path)
    return canonical


def may_import(principal: Principal, code: str) -> bool:
    if principal.is_admin:
        return True
    return "issuer" in principal.roles and principal.jurisdiction.covers(code)


def place_of(code: str) -> Place:
    return Place(code, name_of(code), romaji.place(code), boundaries().outline(code))


def _district_check(code: str) -> Callable[[BaseGeometry, int], tuple[str, str] | None]:
    """The publish-time geometry check; the file's districts share its budget of points."""

    def check(shape: BaseGeometry, count: int) -> tuple[str, str] | None:
        budget = max(16, MAX_POINTS // max(count, 1))
        found = first_outside(shape, lambda c: c == code, budget)
        if found is None:
            return None
        lat, lon, other = found
        where = f"{lat:.4f},{lon:.4f}"
        if other is None:
            return (f"{where} で市区町村の外（海上など）に出ています。", f"reaches {where}, at sea")
        return (
            f"{where} で{name_of(other)}に入っています。",
            f"reaches {where}, in {other} ({name_of(other)})",
        )

    return check


def parse_districts(code: str, data: bytes) -> list[District]:
    """Parse (CPU-bound: run it on a worker thread)."""
    return places_import.parse_districts(data, place_of(code), check=_district_check(code))


def parse_sites(code: str, data: bytes, content_type: str, kind: str | None) -> list[Site]:
    return places_import.parse_sites(data, place_of(code), content_type, kind=kind)


@dataclass(frozen=True, slots=True)
class Imported:
    code: str
    imported: int
    replaced: int
    kinds: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "code": self.code,
            "name": name_of(self.code),
            "imported": self.imported,
            "replaced": self.replaced,
        }
        if self.kinds:
            found["kinds"] = self.kinds
        return found


def store_districts(
    connection: Connection, actor: str, code: str, found: list[District], data: bytes
) -> Imported:
    """Replace the municipality's districts, with the audit record, in the caller's
    transaction."""
    replaced = place_queries.replace_districts(connection, code, found)
    return _recorded(
        connection, actor, "districts.import", data, Imported(code, len(found), replaced, {})
    )


def store_sites(
    connection: Connection, actor: str, code: str, found: list[Site], data: bytes
) -> Imported:
    kinds: dict[str, int] = {}
    for site in found:
        kinds[site.kind] = kinds.get(site.kind, 0) + 1
    replaced = place_queries.replace_sites(connection, code, kinds, found)
    return _recorded(
        connection, actor, "shelters.import", data, Imported(code, len(found), replaced, kinds)
    )


def _recorded(
    connection: Connection, actor: str, action: str, data: bytes, done: Imported
) -> Imported:
    """The audit record of an import, beside its rows; the file is named by its digest."""
    detail: dict[str, Any] = {"imported": done.imported}
    if done.kinds:
        detail["kinds"] = done.kinds
    detail |= {"replaced": done.replaced, "sha256": hashlib.sha256(data).hexdigest()}
    audit.append(connection, actor=actor, action=action, subject=done.code, detail=detail)
    return done


def refused(exc: FileRefused) -> ImportRefused:
    return ImportRefused(
        f"the file has {exc.total} problem(s); nothing was imported",
        errors=[p.as_dict() for p in exc.problems],
    )


async def _authorized(hub: Services, principal: Principal, code: str, what: str) -> None:
    if may_import(principal, code):
        return
    await hub.store.write(
        lambda c: audit.append(
            c,
            actor=principal.actor,
            action=f"{what}.import.refused",
            subject=code,
            detail={"reason": "outside jurisdiction"},
        )
    )
    raise Forbidden(f"{code} ({name_of(code)}) is outside your jurisdiction")


async def import_districts(hub: Services, principal: Principal, code: str, data: bytes) -> Imported:
    code = municipality(code)
    await _authorized(hub, principal, code, "districts")
    try:
        found = await pools.run("imports", parse_districts, code, data)
    except FileRefused as exc:
        raise refused(exc) from None
    return await hub.store.write(lambda c: store_districts(c, principal.actor, code, found, data))


async def import_sites(
    hub: Services,
    principal: Principal,
    code: str,
    data: bytes,
    content_type: str,
    kind: str | None = None,
) -> Imported:
    code = municipality(code)
    await _authorized(hub, principal, code, "shelters")
    try:
        found = await pools.run("imports", parse_sites, code, data, content_type, kind)
    except FileRefused as exc:
        raise refused(exc) from None
    return await hub.store.write(lambda c: store_sites(c, principal.actor, code, found, data))


# ---------------------------------------------------------------- listing


# A CAP polygon is one ring: a district's largest part, simplified to at most this many points
# (the compose form and receivers' maps need no more).
CAP_POLYGON_POINTS = 200


def cap_polygon(geometry: dict[str, Any]) -> str:
    """A registered district's outline as a CAP polygon ("lat,lon lat,lon …")."""
    shape = shapely.geometry.shape(geometry)
    parts = list(shape.geoms) if hasattr(shape, "geoms") else [shape]
    ring = max(parts, key=lambda p: p.area).exterior
    tolerance = 0.00005
    while len(ring.coords) > CAP_POLYGON_POINTS:
        ring = ring.simplify(tolerance)
        tolerance *= 2
    return " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring.coords)


def district_feature(row: District) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": row.geometry,
        "properties": {"name": row.name, "kana": row.kana},
    }


def site_feature(row: Site) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {
            "id": row.site_id,
            "kind": row.kind,
            "kind_label": KINDS[row.kind][0],
            "name": row.name,
            "kana": row.kana,
            "address": row.address,
            "capacity": row.capacity,
            "hazards": list(row.hazards),
            "hazard_labels": [HAZARDS[h][0] for h in row.hazards if h in HAZARDS],
            "note": row.note,
        },
    }


async def districts(hub: Services, code: str) -> list[District]:
    return await hub.store.read(lambda c: place_queries.districts(c, code))


async def sites(hub: Services, code: str, kind: str | None = None) -> list[Site]:
    return await hub.store.read(lambda c: place_queries.sites(c, code, kind))
