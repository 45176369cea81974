"""A municipality's districts from a GeoJSON FeatureCollection: properties ``name`` and
``kana``, geometry Polygon or MultiPolygon, each checked with shapely (closed rings, a valid
shape, a bounded number of vertices) and against the municipality's outline.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shapely import MultiPolygon, Polygon
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from alertcommons.jp.import_problems import (
    LIMITS,
    FileRefused,
    Limits,
    Place,
    Problem,
    _kana,
    _Problems,
    _refuse,
    _text,
    decode,
)


@dataclass(frozen=True, slots=True)
class District:
    name: str
    kana: str | None
    geometry: dict[str, Any]  # GeoJSON, coordinates rounded to 6 decimals (~0.1 m)


# ---------------------------------------------------------------- GeoJSON


def _features(text: str, problems: _Problems) -> list[tuple[int, Any]]:
    """Each feature of a FeatureCollection with the line it starts on."""
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else 0
        raise FileRefused([Problem(line, "json", {"detail": detail})]) from None
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise _refuse("collection")
    features = document["features"]
    lines = _feature_lines(text, len(features))
    return list(zip(lines, features, strict=True))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _feature_lines(text: str, count: int) -> list[int]:
    """The line each element of the top-level "features" array starts on, found by walking
    the document (already known to be valid JSON) with the decoder; 0s where not found."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")

    def skip(at: int) -> int:
        found = space.match(text, at)
        return found.end() if found else at

    try:
        at = skip(0)
        if text[at] != "{":
            return [0] * count
        at = skip(at + 1)
        while text[at] != "}":
            key, at = decoder.raw_decode(text, at)
            at = skip(skip(at) + 1)  # past the ':'
            if key == "features" and text[at] == "[":
                starts = []
                at = skip(at + 1)
                # Lines counted on from the last feature: from the top each time was
                # quadratic, a minute's work for a megabyte of tiny features.
                line, counted = 1, 0
                while text[at] != "]":
                    line += text.count("\n", counted, at)
                    counted = at
                    starts.append(line)
                    _, at = decoder.raw_decode(text, at)
                    at = skip(at)
                    if text[at] == ",":
                        at = skip(at + 1)
                if len(starts) == count:
                    return starts
                at += 1
            else:
                _, at = decoder.raw_decode(text, at)
            at = skip(at)
            if text[at] == ",":
                at = skip(at + 1)
    except (ValueError, IndexError, RecursionError):
        pass
    return [0] * count


def _rings(coordinates: Any, depth: int, vertices: list[int], limits: Limits) -> list[Any] | str:
    """Validate nested coordinate arrays of ``depth`` (2: a polygon's rings, 3: a
    multipolygon's polygons); return them as lists of (lon, lat), or a problem's detail."""
    if not isinstance(coordinates, list) or not coordinates:
        return "an empty or missing 'coordinates' array"
    if depth == 3:
        polygons = []
        for polygon in coordinates:
            found = _rings(polygon, 2, vertices, limits)
            if isinstance(found, str):
                return found
            polygons.append(found)
        return polygons
    rings = []
    for ring in coordinates:
        if not isinstance(ring, list):
            return "a ring is not an array of positions"
        vertices[0] += len(ring)
        if vertices[0] > limits.max_vertices:
            return "too many vertices"
        points = []
        for position in ring:
            if (
                not isinstance(position, list)
                or len(position) < 2
                or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in position[:2]
                )
            ):
                return "a position is not [longitude, latitude]"
            lon, lat = float(position[0]), float(position[1])
            if not (math.isfinite(lon) and math.isfinite(lat)):
                return "a coordinate is not a finite number"
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                return f"[{lon}, {lat}] is not a longitude and latitude"
            points.append((lon, lat))
        if len(points) < 4:
            return f"a ring has {len(points)} positions; it needs at least 4"
        if points[0] != points[-1]:
            return "a ring is not closed (its first and last positions differ)"
        rings.append(points)
    return rings


def _rounded(geometry: BaseGeometry) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], float):
                return [round(v, 6) for v in value[:2]]
            return [walk(v) for v in value]
        return value

    shape = mapping(geometry)
    return {"type": shape["type"], "coordinates": walk(shape["coordinates"])}


def parse_districts(
    data: bytes,
    place: Place,
    *,
    check: Callable[[BaseGeometry, int], tuple[str, str] | None] | None = None,
    limits: Limits = LIMITS,
) -> list[District]:
    """The districts of a GeoJSON FeatureCollection, or :class:`FileRefused` listing every
    problem. Each must lie (mostly: the shipped outline is simplified) inside the
    municipality's outline; ``check(shape, features in the file)`` may refuse a shape further,
    returning (Japanese, English) words for why."""
    problems = _Problems(limits)
    features = _features(decode(data, limits), problems)
    if not features:
        raise _refuse("no_features")
    if len(features) > limits.max_districts:
        raise _refuse("too_many", limit=limits.max_districts)
    vertices = [0]
    seen: dict[str, int] = {}
    found: list[District] = []
    for index, (line, feature) in enumerate(features):
        where = (line, index)
        before = problems.total
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(line, "feature", index)
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            problems.add(line, "properties", index)
            continue
        name = _text(properties.get("name"), "name", where, problems, limit=100)
        if name is None and problems.total == before:
            problems.add(line, "required", index, field="name")
        kana = _kana(properties.get("kana"), "kana", where, problems, 100)
        if name is not None:
            if name in seen:
                problems.add(line, "duplicate_name", index, name=name, first=seen[name])
            else:
                seen[name] = index
        shape = _district_shape(feature.get("geometry"), where, problems, vertices, limits)
        if vertices[0] > limits.max_vertices:
            raise _refuse("too_many_vertices", limit=limits.max_vertices)
        if shape is not None:
            _within(shape, place, where, problems, check, len(features))
        if problems.total == before and shape is not None and name is not None:
            found.append(District(name, kana, _rounded(shape)))
    problems.raise_if_any()
    return found


def _district_shape(
    geometry: Any,
    where: tuple[int, int | None],
    problems: _Problems,
    vertices: list[int],
    limits: Limits,
) -> BaseGeometry | None:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        problems.add(where[0], "geometry_type", where[1], found=kind or "nothing")
        return None
    assert isinstance(geometry, dict)
    rings = _rings(geometry.get("coordinates"), 2 if kind == "Polygon" else 3, vertices, limits)
    if isinstance(rings, str):
        problems.add(where[0], "coordinates", where[1], detail=rings)
        return None
    if kind == "Polygon":
        shape: BaseGeometry = Polygon(rings[0], rings[1:])
    else:
        shape = MultiPolygon([Polygon(p[0], p[1:]) for p in rings])
    if not shape.is_valid:
        problems.add(where[0], "invalid_shape", where[1], detail=explain_validity(shape))
        return None
    if shape.area == 0:
        problems.add(where[0], "invalid_shape", where[1], detail="it has no area")
        return None
    return shape


# How far (degrees, ~500 m) past the shipped outline a district may reach, and how much of it
# may lie beyond that: the outline is simplified to 1 % of its vertices.
OUTLINE_TOLERANCE = 0.005
OUTSIDE_SHARE = 0.1


def _within(
    shape: BaseGeometry,
    place: Place,
    where: tuple[int, int | None],
    problems: _Problems,
    check: Callable[[BaseGeometry, int], tuple[str, str] | None] | None,
    count: int,
) -> None:
    names = {"place": place.name, "place_en": place.name_en}
    if place.outline is not None:
        if not shape.intersects(place.outline):
            problems.add(where[0], "outside", where[1], **names)
            return
        beyond = shape.difference(place.outline.buffer(OUTLINE_TOLERANCE)).area / shape.area
        if beyond > OUTSIDE_SHARE:
            problems.add(where[0], "mostly_outside", where[1], percent=round(beyond * 100), **names)
            return
    if check is not None:
        refused = check(shape, count)
        if refused is not None:
            problems.add(where[0], "reaches", where[1], detail=refused[0], detail_en=refused[1])
