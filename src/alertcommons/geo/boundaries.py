"""The outlines of Japan's municipalities and prefectures, shipped with the package.

A filter drawn as a polygon or a circle should get an alert that names only codes whenever it
overlaps the coded area, not only when it holds the area's centre point; maps should draw a
municipality as its outline. The outlines are MLIT's administrative areas simplified to 1 %
(``data/README.md`` has the source and the credit that must be shown with them), decoded here
from TopoJSON once, on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from shapely import MultiPolygon, Polygon, union_all
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

CREDIT = "出典：国土交通省「国土数値情報（行政区域データ）」を加工して作成"
CREDIT_EN = "Source: MLIT National Land Numerical Information (administrative areas), processed"


@dataclass(frozen=True, slots=True)
class Boundaries:
    municipalities: dict[str, BaseGeometry]  # 5-digit code (no check digit) -> outline
    prefectures: dict[str, BaseGeometry]  # 2-digit code -> outline
    _cities: dict[str, BaseGeometry] = field(default_factory=dict)

    def outline(self, code: str) -> BaseGeometry | None:
        """The outline of a prefecture (2 digits) or municipality (5 or 6 digits); a
        designated city (e.g. 14100 横浜市) is the union of its wards."""
        if len(code) == 2:
            return self.prefectures.get(code)
        found = self.municipalities.get(code[:5])
        if found is None:
            found = self._cities.get(code[:5]) or self._designated_city(code[:5])
        return found

    def _designated_city(self, city: str) -> BaseGeometry | None:
        from alertcommons.jp.codes import registry  # jp knows which wards make a city

        wards = [
            self.municipalities[code]
            for code, place in registry().municipalities.items()
            if place.parent and place.parent[:5] == city and code in self.municipalities
        ]
        if not wards:
            return None
        self._cities[city] = outline = union_all(wards)
        return outline


@cache
def boundaries() -> Boundaries:
    municipalities: dict[str, list[BaseGeometry]] = {}
    for properties, shape in _decode("municipalities-2021.topojson"):
        code = str(properties.get("N03_007") or "")
        if len(code) == 5:
            municipalities.setdefault(code, []).append(shape)
    outlines = {code: _union(parts) for code, parts in municipalities.items()}
    return Boundaries(outlines, _prefectures_by_code(outlines))


def _prefectures_by_code(municipalities: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    from alertcommons.jp.codes import registry  # jp names the prefectures

    by_name = {prefecture.name: code for code, prefecture in registry().prefectures.items()}
    out: dict[str, BaseGeometry] = {}
    for properties, shape in _decode("prefectures-2021.topojson"):
        code = by_name.get(str(properties.get("N03_001") or ""))
        if code is not None:
            out[code] = shape
    for code in {c[:2] for c in municipalities} - out.keys():  # never without an outline
        out[code] = _union([s for c, s in municipalities.items() if c.startswith(code)])
    return out


def _union(parts: list[BaseGeometry]) -> BaseGeometry:
    if len(parts) == 1:
        return parts[0]
    polygons: list[Polygon] = []
    for part in parts:
        polygons.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return make_valid(MultiPolygon(polygons))


def _decode(name: str) -> list[tuple[dict[str, Any], BaseGeometry]]:
    """Each geometry of a TopoJSON file's one object, with its properties."""
    text = resources.files("alertcommons.geo").joinpath("data", name).read_text("utf-8")
    topology = json.loads(text)
    scale = np.array(topology["transform"]["scale"])
    shift = np.array(topology["transform"]["translate"])
    # Arcs are quantized and delta-encoded: a running sum, then scaled.
    arcs = [
        np.cumsum(np.array(arc, dtype=float), axis=0) * scale + shift for arc in topology["arcs"]
    ]

    def ring(indexes: list[int]) -> Any:
        pieces = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indexes]
        # consecutive arcs share their end points
        return np.concatenate([pieces[0], *(piece[1:] for piece in pieces[1:])])

    def polygon(rings: list[list[int]]) -> Polygon:
        shells = [ring(r) for r in rings]
        return Polygon(shells[0], [hole for hole in shells[1:] if len(hole) >= 4])

    (collection,) = topology["objects"].values()

    out: list[tuple[dict[str, Any], BaseGeometry]] = []
    for geometry in collection["geometries"]:
        kind, parts = geometry.get("type"), geometry.get("arcs") or []
        if kind == "Polygon":
            shape: BaseGeometry = polygon(parts)
        elif kind == "MultiPolygon":
            shape = MultiPolygon([polygon(p) for p in parts])
        else:
            continue
        if not shape.is_valid:
            shape = make_valid(shape)
        out.append((geometry.get("properties") or {}, shape))
    return out
