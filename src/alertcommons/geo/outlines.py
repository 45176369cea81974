"""One outline as GeoJSON, for a browser map that has no tile server to draw it.

The public pages and the compose page draw a municipality or prefecture as its outline
(``boundaries.py``: MLIT's areas, simplified). Browsers fetch one outline per area from the
hub (``/geo/municipalities/{code}.geojson``) rather than the whole country: a ward is a few
kilobytes, the 1.5 MB national file would be too much on a phone during a disaster.
Coordinates are rounded to 5 decimals (about a metre), finer than the 1 % simplification.
The credit the data's licence requires travels in the document and is shown on every map.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from alertcommons.geo.boundaries import CREDIT, CREDIT_EN, boundaries

DIGITS = 5


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def _geometry(shape: BaseGeometry) -> dict[str, Any]:
    found = mapping(shape)
    if found["type"] == "GeometryCollection":  # make_valid may leave slivers: keep the areas
        polygons: list[Any] = []
        for part in found["geometries"]:
            if part["type"] == "Polygon":
                polygons.append(part["coordinates"])
            elif part["type"] == "MultiPolygon":
                polygons.extend(part["coordinates"])
        found = {"type": "MultiPolygon", "coordinates": polygons}
    return {"type": found["type"], "coordinates": _rounded(found["coordinates"])}


@lru_cache(maxsize=512)
def outline_geojson(code: str, name: str) -> bytes | None:
    """A GeoJSON Feature (UTF-8 bytes) of a canonical code's outline (2 or 5 digits), or
    None when the shipped data has no outline for it (a code created after 2021)."""
    shape = boundaries().outline(code)
    if shape is None or shape.is_empty:
        return None
    feature = {
        "type": "Feature",
        "properties": {"code": code, "name": name, "credit": CREDIT, "credit_en": CREDIT_EN},
        "geometry": _geometry(shape),
    }
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode()
