"""Jurisdictions: which area codes an issuer may publish for, and checking an alert's areas.

A jurisdiction is a list of Japanese local-government codes: ``*`` (national bodies), a
2-digit prefecture code (covers every municipality in it), or a municipality code (5 digits,
or 6 with check digit). Every kind of area the hub routes on is checked — an area is inside
when:

* every local-government geocode (``JIS X 0402``, 5 or 6 digits) it names is covered;
* every JMA area geocode (``JMA:city``, ``JMA:forecast``, ``JMA:tsunami`` …) relates to
  prefectures or municipalities that are all covered (:mod:`alertcommons.jp.jma_areas`); a
  JMA code the hub cannot relate is refused for anyone but a national body, since receivers
  subscribed to it would be reached;
* every polygon and circle lies, as a whole shape, on land of covered municipalities (within
  a tolerance for boundary precision: :mod:`alertcommons.auth.geometry`);
* an area with neither codes nor geometry cannot be placed, and is refused for anyone but a
  national body.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from shapely import Geometry, Polygon

from alertcommons.auth.geometry import MAX_POINTS, circle_shape, first_outside
from alertcommons.cap.model import Area
from alertcommons.cap.values import CapValueError, parse_circle, parse_polygon
from alertcommons.jp.codes import CodeError, normalize, parent_of
from alertcommons.jp.jma_areas import JMA_CITY, jma_kind, places_of

LOCAL_GOVERNMENT = ("JIS X 0402", "JIS X 0401", "LGCODE")


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


def jma_codes(area: Area) -> list[tuple[str, str]]:
    """The JMA area geocodes of an area as (kind, code): exactly what matching routes on."""
    found = []
    for pair in area.geocodes:
        kind, value = jma_kind(pair.value_name), (pair.value or "").strip()
        if kind is not None and value:
            found.append((kind, value))
    return found


def check_area(
    jurisdiction: Jurisdiction, area: Area, path: str, *, shapes_in_alert: int = 1
) -> list[str]:
    """Return the area's local-government codes, or raise if any part lies outside.

    ``shapes_in_alert``: how many polygons and circles the whole alert holds, which share
    the geometry check's budget of sample points."""
    try:
        codes = area_codes(area)
    except CodeError as exc:
        raise OutsideJurisdiction(f"{path}/geocode: {exc}") from None
    for code in codes:
        if not jurisdiction.covers(code):
            raise OutsideJurisdiction(f"{path}: area code {code} is outside your jurisdiction")
    jma = jma_codes(area)
    shapes = _shapes(area, path)
    if jurisdiction.national:
        return codes
    for kind, value in jma:
        places = places_of(kind, value)
        if places is None:
            raise OutsideJurisdiction(
                f"{path}/geocode: {kind}={value} cannot be related to local-government areas;"
                " only a national issuer may use it"
            )
        outside = [place for place in places if not jurisdiction.covers(place)]
        if outside:
            raise OutsideJurisdiction(
                f"{path}/geocode: {kind}={value} covers area {outside[0]},"
                " outside your jurisdiction"
            )
    for shape, where in shapes:
        budget = max(16, MAX_POINTS // max(shapes_in_alert, len(shapes)))
        found = first_outside(shape, jurisdiction.covers, budget)
        if found is None:
            continue
        lat, lon, municipality = found
        if municipality is None:
            raise OutsideJurisdiction(
                f"{where}: the area reaches {lat:.4f},{lon:.4f}, in no municipality (at sea"
                " or abroad); give such areas by geocode"
            )
        raise OutsideJurisdiction(
            f"{where}: the area reaches {lat:.4f},{lon:.4f} in municipality {municipality},"
            " outside your jurisdiction"
        )
    if not codes and not jma and not shapes:
        raise OutsideJurisdiction(
            f"{path}: the area has no geocode or geometry to place it in your jurisdiction"
        )
    return codes


def _shapes(area: Area, path: str) -> list[tuple[Geometry, str]]:
    shapes: list[tuple[Geometry, str]] = []
    try:
        for number, polygon in enumerate(area.polygons, start=1):
            ring = [(p.lon, p.lat) for p in parse_polygon(polygon)]
            shapes.append((Polygon(ring), f"{path}/polygon[{number}]"))
        for number, text in enumerate(area.circles, start=1):
            circle = parse_circle(text.strip())
            shape = circle_shape(circle.center.lat, circle.center.lon, circle.radius_km)
            shapes.append((shape, f"{path}/circle[{number}]"))
    except CapValueError as exc:  # validation has already refused these; be safe anyway
        raise OutsideJurisdiction(f"{path}: {exc}") from None
    return shapes
