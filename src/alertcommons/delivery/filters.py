"""Endpoint filters: which alerts a receiver wants.

```json
{"areas": ["13", "271004"], "jma_areas": ["130010"], "polygon": "lat,lon …", "circle":
 "lat,lon km", "categories": ["Met"], "events": ["避難指示"], "event_codes": ["SVR"],
 "min_urgency": "Expected", "min_severity": "Severe", "min_certainty": "Likely",
 "statuses": ["Actual", "Exercise"], "languages": ["ja", "en"]}
```

Every key is optional; an empty filter means every actual alert. Area keys widen one another
(an alert matching any of them is in); the other keys narrow (all must hold, for at least one
of the alert's ``info`` blocks). ``statuses`` defaults to ``["Actual"]``: exercises and tests
reach only endpoints that ask for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely import Geometry, Polygon

from alertcommons.auth.geometry import circle_shape
from alertcommons.cap.model import CATEGORIES, CERTAINTIES, SEVERITIES, STATUSES, URGENCIES
from alertcommons.cap.values import CapValueError, parse_circle, parse_polygon
from alertcommons.errors import AlertCommonsError
from alertcommons.jp.codes import CodeError, normalize

KM_PER_DEGREE = 111.32


class FilterError(AlertCommonsError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"filter.{key}: {message}")
        self.key = key


@dataclass(frozen=True, slots=True)
class Filter:
    areas: frozenset[str] = frozenset()  # canonical local-government codes: 2 or 5 digits
    jma_areas: frozenset[str] = frozenset()
    geometry: Geometry | None = None
    categories: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    event_codes: frozenset[str] = frozenset()
    min_urgency: str | None = None
    min_severity: str | None = None
    min_certainty: str | None = None
    statuses: frozenset[str] = frozenset({"Actual"})
    languages: tuple[str, ...] = ()

    @property
    def anywhere(self) -> bool:
        return not self.areas and not self.jma_areas and self.geometry is None


_KEYS = {
    "areas",
    "jma_areas",
    "polygon",
    "circle",
    "categories",
    "events",
    "event_codes",
    "min_urgency",
    "min_severity",
    "min_certainty",
    "statuses",
    "languages",
}


def parse_filter(document: Any) -> tuple[Filter, dict[str, Any]]:
    """Check a filter document; return the filter and its canonical JSON form."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise FilterError("", "must be an object")
    unknown = set(document) - _KEYS
    if unknown:
        raise FilterError(sorted(unknown)[0], f"unknown key; known: {', '.join(sorted(_KEYS))}")
    canonical: dict[str, Any] = {}
    areas = _strings(document, "areas")
    try:
        codes = sorted({normalize(code) for code in areas})
    except CodeError as exc:
        raise FilterError("areas", str(exc)) from None
    if codes:
        canonical["areas"] = codes
    jma = _strings(document, "jma_areas")
    if any(not code.isdigit() for code in jma):
        raise FilterError("jma_areas", "JMA area codes are digits")
    if jma:
        canonical["jma_areas"] = sorted(set(jma))
    shapes = []
    if "polygon" in document:
        shapes.append(_polygon(document["polygon"]))
        canonical["polygon"] = document["polygon"]
    if "circle" in document:
        shapes.append(_circle(document["circle"]))
        canonical["circle"] = document["circle"]
    for key, allowed in (("categories", CATEGORIES), ("statuses", STATUSES)):
        values = _strings(document, key)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise FilterError(key, f"'{bad[0]}' is not one of {', '.join(allowed)}")
        if values:
            canonical[key] = sorted(set(values))
    for key, order in (
        ("min_urgency", URGENCIES),
        ("min_severity", SEVERITIES),
        ("min_certainty", CERTAINTIES),
    ):
        value = document.get(key)
        if value is None:
            continue
        if value not in order or value == "Unknown":
            raise FilterError(key, f"must be one of {', '.join(order[:-1])}")
        canonical[key] = value
    for key in ("events", "event_codes", "languages"):
        values = _strings(document, key)
        if values:
            canonical[key] = sorted(set(values))
    geometry = shapes[0] if len(shapes) == 1 else (shapes[0].union(shapes[1]) if shapes else None)
    parsed = Filter(
        areas=frozenset(codes),
        jma_areas=frozenset(jma),
        geometry=geometry,
        categories=frozenset(canonical.get("categories", ())),
        events=frozenset(canonical.get("events", ())),
        event_codes=frozenset(canonical.get("event_codes", ())),
        min_urgency=canonical.get("min_urgency"),
        min_severity=canonical.get("min_severity"),
        min_certainty=canonical.get("min_certainty"),
        statuses=frozenset(canonical.get("statuses", ("Actual",))),
        languages=tuple(canonical.get("languages", ())),
    )
    return parsed, canonical


def _strings(document: dict[str, Any], key: str) -> list[str]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FilterError(key, "must be a list of strings")
    if len(value) > 5000:
        raise FilterError(key, "at most 5000 entries")
    return [v.strip() for v in value]


def _polygon(text: Any) -> Geometry:
    if not isinstance(text, str):
        raise FilterError("polygon", "must be a CAP polygon string 'lat,lon lat,lon …'")
    try:
        points = parse_polygon(text)
    except CapValueError as exc:
        raise FilterError("polygon", str(exc)) from None
    shape = Polygon([(p.lon, p.lat) for p in points])
    if not shape.is_valid:
        raise FilterError("polygon", "polygon crosses itself")
    return shape


def _circle(text: Any) -> Geometry:
    if not isinstance(text, str):
        raise FilterError("circle", "must be a CAP circle string 'lat,lon radius-km'")
    try:
        circle = parse_circle(text.strip())
    except CapValueError as exc:
        raise FilterError("circle", str(exc)) from None
    return circle_shape(circle.center.lat, circle.center.lon, circle.radius_km)
