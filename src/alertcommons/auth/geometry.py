"""Is a polygon or circle inside a jurisdiction? Checked over the whole shape, not its vertices.

The municipal boundaries the hub ships (the JMA city areas inside ``reversejp``) answer only
"which municipality is at this point", so a shape is checked by points spread over all of it:

* its outline, every ``STEP`` degrees (about 250 m) along every ring, so an edge that crosses
  into a neighbour is seen between the vertices, however few there are;
* its inside, on a grid (never finer than ``STEP``), so a foreign municipality enclosed by
  the outline is seen too.

An alert's shapes share a budget of ``MAX_POINTS`` points (each a boundary look-up of
~0.15 ms), so checking one alert costs at most about half a second of a validation thread,
however many shapes it has; the more shapes, the coarser each one is sampled.

Tolerance: a point that is not on land of a covered municipality — in a neighbour, or at sea
— still passes when covered land lies within ``TOLERANCE`` degrees (about 500 m) of it. The
boundaries are simplified and the coastline is drawn at their precision, and an officer drawing
a coastal district on a map will stray a little over the water; an area that reaches further
into a neighbour, or out to sea, is refused (sea areas are given by geocode). Lookups are
cached on a ``CELL`` grid (about 100 m), well inside the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely import Geometry

KM_PER_DEGREE = 111.32
STEP = 0.0025
MAX_POINTS = 3000  # per alert: two thirds on outlines, one third inside
TOLERANCE = 0.005
CELL = 0.001
_PROBES = tuple(
    (math.cos(math.radians(a)) * r, math.sin(math.radians(a)) * r)
    for r in (TOLERANCE / 2, TOLERANCE)
    for a in range(0, 360, 45)
)


@lru_cache(maxsize=1)
def _reversejp() -> object:
    import reversejp

    return reversejp


@lru_cache(maxsize=262_144)
def _municipality_in_cell(x: int, y: int) -> str | None:
    reversejp = _reversejp()
    for place in reversejp.find_properties(x * CELL, y * CELL):  # type: ignore[attr-defined]
        code = str(place.code)
        # 7 digits: a municipality, or a part of one (横浜市北部 is 1410011): the first five
        # are its municipality either way.
        if len(code) == 7:
            return code[:5]
    return None


def circle_shape(lat: float, lon: float, radius_km: float) -> Geometry:
    """A circle as a shape in degrees: good to a few percent away from the poles."""
    degrees = max(radius_km, 0.001) / KM_PER_DEGREE
    return shapely.Point(lon, lat).buffer(degrees, quad_segs=16)


def municipality_at(lat: float, lon: float) -> str | None:
    """The 5-digit municipality code at a point (to ``CELL`` precision), None at sea."""
    return _municipality_in_cell(round(lon / CELL), round(lat / CELL))


def samples(shape: Geometry, budget: int = MAX_POINTS) -> list[tuple[float, float]]:
    """Points (lon, lat) spread over a shape's outline and inside, outline first; about
    ``budget`` at most (each point is a boundary look-up of ~0.15 ms)."""
    max_outline, max_inside = max(8, budget * 2 // 3), max(4, budget // 3)
    points: list[tuple[float, float]] = []
    rings = [shapely.get_exterior_ring(p) for p in shapely.get_parts(shape)]
    rings += [
        shapely.get_interior_ring(p, i)
        for p in shapely.get_parts(shape)
        for i in range(shapely.get_num_interior_rings(p))
    ]
    total = sum(ring.length for ring in rings) or 1.0
    for ring in rings:
        count = max(
            4, min(math.ceil(ring.length / STEP), math.ceil(max_outline * ring.length / total))
        )
        along = shapely.line_interpolate_point(ring, np.linspace(0.0, ring.length, count))
        points.extend(
            zip(shapely.get_x(along).tolist(), shapely.get_y(along).tolist(), strict=True)
        )
    west, south, east, north = shape.bounds
    spacing = max(STEP, math.sqrt(max((east - west) * (north - south), 0.0) / max_inside))
    xs = np.arange(west + spacing / 2, east, spacing)
    ys = np.arange(south + spacing / 2, north, spacing)
    if len(xs) and len(ys):
        grid_x, grid_y = np.meshgrid(xs, ys)
        inside = shapely.contains_xy(shape, grid_x.ravel(), grid_y.ravel())
        points.extend(
            zip(grid_x.ravel()[inside].tolist(), grid_y.ravel()[inside].tolist(), strict=True)
        )
    return points


def _pairs(xs: Any, ys: Any) -> list[tuple[float, float]]:
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def first_outside(
    shape: Geometry, covered: Callable[[str], bool], budget: int = MAX_POINTS
) -> tuple[float, float, str | None] | None:
    """The first sample of ``shape`` that lies beyond tolerance outside covered land, as
    (lat, lon, municipality there or None at sea); None when the whole shape is inside.

    ``covered`` says whether a 5-digit municipality code is in the jurisdiction."""
    for lon, lat in samples(shape, budget):
        here = municipality_at(lat, lon)
        if here is not None and covered(here):
            continue
        scale = 1.0 / max(math.cos(math.radians(lat)), 0.01)
        near = (municipality_at(lat + dy, lon + dx * scale) for dx, dy in _PROBES)
        if any(m is not None and covered(m) for m in near):
            continue
        return lat, lon, here
    return None
