"""Jurisdictions: which area codes an issuer may publish for, and checking an alert's areas.

A jurisdiction is a list of Japanese local-government codes: ``*`` (national bodies), a
2-digit prefecture code (covers every municipality in it), or a municipality code (5 digits,
or 6 with check digit). An alert's area is inside when:

* every local-government geocode (``JIS X 0402``, 5 or 6 digits) it names is covered; a
  ``JMA:city`` code (7 digits, municipality + "00") counts as its municipality;
* every vertex of every polygon, and the centre and four compass points of every circle,
  falls on land of a covered municipality (by the JMA municipal boundaries shipped with
  ``reversejp``). Vertices are checked, not edges: a polygon whose corners all lie inside
  may still bulge across a boundary between them, and a point at sea belongs to no
  municipality, so an area reaching out to sea must be given by codes;
* an area with neither codes nor geometry cannot be placed, and is refused for anyone but a
  national body.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from functools import cache

from alertcommons.cap.model import Area
from alertcommons.cap.values import CapValueError, parse_circle, parse_polygon
from alertcommons.jp.codes import CodeError, normalize, parent_of

LOCAL_GOVERNMENT = ("JIS X 0402", "JIS X 0401", "LGCODE")
JMA_CITY = "JMA:city"


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    codes: frozenset[str]  # canonical: "*", 2-digit or 5-digit

    @classmethod
    def parse(cls, codes: list[str]) -> Jurisdiction:
        """Canonicalize a list of codes; raise :class:`CodeError` naming a bad one."""
        canonical = {"*" if code.strip() == "*" else normalize(code) for code in codes}
        return cls(frozenset(canonical))

    @property
    def national(self) -> bool:
        return "*" in self.codes

    def covers(self, municipality_or_prefecture: str) -> bool:
        code = municipality_or_prefecture
        if self.national or code in self.codes or code[:2] in self.codes:
            return True
        parent = parent_of(code) if len(code) == 5 else None
        return parent is not None and parent in self.codes

    def as_list(self) -> list[str]:
        return sorted(self.codes)


class OutsideJurisdiction(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def area_codes(area: Area) -> list[str]:
    """Canonical local-government codes an area names (for indexing and checks)."""
    codes = []
    for pair in area.geocodes:
        name, value = (pair.value_name or "").strip(), (pair.value or "").strip()
        if name in LOCAL_GOVERNMENT:
            codes.append(normalize(value))
        elif name == JMA_CITY and len(value) == 7 and value.endswith("00"):
            # JMA codes outlive merged municipalities (old reports name them): such a code
            # places nothing, where a declared local-government code would be an error.
            with contextlib.suppress(CodeError):
                codes.append(normalize(value[:5]))
    return codes


def check_area(jurisdiction: Jurisdiction, area: Area, path: str) -> list[str]:
    """Return the area's local-government codes, or raise if any part lies outside."""
    try:
        codes = area_codes(area)
    except CodeError as exc:
        raise OutsideJurisdiction(f"{path}/geocode: {exc}") from None
    for code in codes:
        if not jurisdiction.covers(code):
            raise OutsideJurisdiction(f"{path}: area code {code} is outside your jurisdiction")
    points = _points(area, path)
    if not jurisdiction.national:
        for lat, lon, where in points:
            municipality = municipality_at(lat, lon)
            if municipality is None:
                raise OutsideJurisdiction(
                    f"{where}: point {lat:g},{lon:g} is in no municipality (at sea or abroad);"
                    " give such areas by geocode"
                )
            if not jurisdiction.covers(municipality):
                raise OutsideJurisdiction(
                    f"{where}: point {lat:g},{lon:g} lies in municipality {municipality},"
                    " outside your jurisdiction"
                )
        if not codes and not points:
            raise OutsideJurisdiction(
                f"{path}: the area has no geocode or geometry to place it in your jurisdiction"
            )
    return codes


def _points(area: Area, path: str) -> list[tuple[float, float, str]]:
    points: list[tuple[float, float, str]] = []
    try:
        for number, polygon in enumerate(area.polygons, start=1):
            where = f"{path}/polygon[{number}]"
            points.extend((p.lat, p.lon, where) for p in parse_polygon(polygon))
        for number, text in enumerate(area.circles, start=1):
            where = f"{path}/circle[{number}]"
            circle = parse_circle(text.strip())
            lat, lon = circle.center.lat, circle.center.lon
            points.append((lat, lon, where))
            d_lat = circle.radius_km / 111.32
            d_lon = circle.radius_km / (111.32 * max(math.cos(math.radians(lat)), 0.01))
            for dy, dx in ((d_lat, 0.0), (-d_lat, 0.0), (0.0, d_lon), (0.0, -d_lon)):
                points.append((lat + dy, lon + dx, where))
    except CapValueError as exc:  # validation has already refused these; be safe anyway
        raise OutsideJurisdiction(f"{path}: {exc}") from None
    return points


@cache
def _lookup() -> object:
    import reversejp

    return reversejp


def municipality_at(lat: float, lon: float) -> str | None:
    """The 5-digit municipality code at a point, from the JMA city boundaries."""
    reversejp = _lookup()
    for place in reversejp.find_properties(lon, lat):  # type: ignore[attr-defined]
        code = str(place.code)
        if len(code) == 7 and code.endswith("00"):
            return code[:5]
    return None
