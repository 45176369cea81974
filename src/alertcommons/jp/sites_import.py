"""Designated evacuation sites from the CSV of Japan's open data (``site_columns.py`` has
the columns) or from GeoJSON points whose properties use the same names or plain English ones.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from alertcommons.jp.districts_import import _features
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
from alertcommons.jp.site_columns import (
    HAZARD_KEYS,
    SiteColumns,
    hazard_key,
    kind_of_value,
    site_columns,
    truth,
)


@dataclass(frozen=True, slots=True)
class Site:
    kind: str
    site_id: str
    name: str
    kana: str | None
    address: str
    lat: float
    lon: float
    capacity: int | None
    hazards: tuple[str, ...]
    note: str | None


# ---------------------------------------------------------------- sites


def parse_sites(
    data: bytes,
    place: Place,
    content_type: str,
    *,
    kind: str | None = None,
    limits: Limits = LIMITS,
) -> list[Site]:
    """The designated sites of a CSV (the open-data columns) or GeoJSON points file, or
    :class:`FileRefused` listing every problem. ``kind`` (emergency_site or shelter) names
    the list a file is when its columns do not say."""
    text = decode(data, limits)
    problems = _Problems(limits)
    if _is_json(content_type, text):
        records = _point_records(text, problems, limits)
    else:
        records = _csv_records(text, problems, limits)
    problems.raise_if_any()
    found: list[Site] = []
    seen: dict[tuple[str, str], int] = {}
    for line, feature, columns, values in records:
        site = _site(line, feature, columns, values, place, kind, problems, limits)
        # An id is checked for repeats even on rows with other problems: all are listed.
        raw_id = _normalized(str(values.get(columns.roles.get("id", ""), "") or ""))
        raw_kind = str(values.get(columns.roles.get("kind", ""), "") or "")
        key = (kind_of_value(raw_kind) or columns.kind or kind or "", raw_id or "")
        if raw_id and key in seen:
            label = columns.roles.get("id", "NO")
            problems.add(line, "duplicate_id", feature, field=label, value=raw_id, first=seen[key])
            continue
        if raw_id:
            seen[key] = line
        if site is not None:
            found.append(site)
    if not records:
        problems.add(0, "no_rows")
    problems.raise_if_any()
    return found


def _is_json(content_type: str, text: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/json", "application/geo+json"):
        return True
    if kind in ("text/csv", "application/csv"):
        return False
    return text.lstrip().startswith("{")


Record = tuple[int, int | None, SiteColumns, dict[str, Any]]


def _csv_records(text: str, problems: _Problems, limits: Limits) -> list[Record]:
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise _refuse("empty") from None
    except csv.Error as exc:
        raise FileRefused([Problem(1, "csv", {"detail": str(exc)})]) from None
    header = [unicodedata.normalize("NFKC", h).strip() for h in header]
    if len(header) > limits.max_columns:
        raise FileRefused([Problem(1, "too_many", {"limit": limits.max_columns})])
    columns = site_columns(header)
    for missing in columns.missing:
        problems.add(1, "header", field=missing)
    for twice in columns.duplicates:
        problems.add(1, "duplicate_column", field=twice)
    problems.raise_if_any()
    records: list[Record] = []
    start = reader.line_num + 1
    for row in _rows(reader, problems):
        line, cells = start, row
        start = reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave at the end
        if len(records) >= limits.max_rows:
            raise _refuse("too_many", limit=limits.max_rows)
        if len(cells) != len(header):
            # trailing empty cells are often dropped or added by spreadsheets
            extra = cells[len(header) :]
            if len(cells) < len(header) or any(c.strip() for c in extra):
                problems.add(line, "columns", found=len(cells), expected=len(header))
                continue
        values = {}
        for name, cell in zip(header, cells, strict=False):
            if len(cell) > limits.max_cell:
                problems.add(line, "too_long", field=name, limit=limits.max_cell)
                cell = ""
            values[name] = cell
        records.append((line, None, columns, values))
    return records


def _rows(reader: Any, problems: _Problems) -> Iterator[list[str]]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # an unclosed quote, an over-long field: stop there
            problems.add(reader.line_num, "csv", detail=str(exc))
            return


def _point_records(text: str, problems: _Problems, limits: Limits) -> list[Record]:
    features = _features(text, problems)
    if len(features) > limits.max_rows:
        raise _refuse("too_many", limit=limits.max_rows)
    records: list[Record] = []
    for index, (line, feature) in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(line, "feature", index)
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict) or len(properties) > limits.max_columns:
            problems.add(line, "properties", index)
            continue
        geometry = feature.get("geometry")
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        position = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if kind != "Point":
            problems.add(line, "point", index, found=kind or "nothing")
            continue
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in position[:2]
            )
        ):
            problems.add(line, "coordinates", index, detail="not [longitude, latitude]")
            continue
        names = [unicodedata.normalize("NFKC", str(k)).strip() for k in properties]
        columns = site_columns(names, geojson=True)
        values = {unicodedata.normalize("NFKC", str(k)).strip(): v for k, v in properties.items()}
        values["\0lon"], values["\0lat"] = position[0], position[1]
        records.append((line, index, columns, values))
    return records


_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _site(
    line: int,
    feature: int | None,
    columns: SiteColumns,
    values: dict[str, Any],
    place: Place,
    kind: str | None,
    problems: _Problems,
    limits: Limits,
) -> Site | None:
    before = problems.total
    where = (line, feature)

    def cell(role: str) -> Any:
        column = columns.roles.get(role)
        return values.get(column) if column is not None else None

    def label(role: str) -> str:
        return columns.roles.get(role) or role

    def text(role: str, limit: int = 200) -> str | None:
        return _text(cell(role), label(role), where, problems, limit=limit)

    kind = _site_kind(cell("kind"), columns.kind or kind, where, problems)
    site_id = _normalized(text("id", 100))
    if site_id is None and problems.total == before:
        problems.add(line, "required", feature, field=label("id"))
    elif site_id is not None and not _ID.match(site_id):
        problems.add(line, "id", feature, field=label("id"), value=site_id[:70])
    name = text("name")
    if name is None:
        problems.add(line, "required", feature, field=label("name"))
    kana = _kana(cell("kana"), label("kana"), where, problems, 200)
    address = text("address", 300)
    if address is None:
        problems.add(line, "required", feature, field=label("address"))
    code = _normalized(text("code", 20))
    if code is not None and code[:5] != place.code:
        problems.add(line, "code", feature, value=code, expected=place.code)
    lat, lon = _location(values, cell, label, place, where, problems)
    capacity = _capacity(_normalized(text("capacity", 20)), label("capacity"), where, problems)
    hazards = _hazards(columns, values, cell("hazards"), where, problems)
    note = text("note", limits.max_cell)
    if problems.total != before:
        return None
    assert kind and site_id and name and address and lat is not None and lon is not None
    return Site(kind, site_id, name, kana, address, lat, lon, capacity, hazards, note)


def _normalized(text: str | None) -> str | None:
    """Full-width digits and letters (common in Japanese spreadsheets) as ASCII."""
    return unicodedata.normalize("NFKC", text).strip() if text is not None else None


def _site_kind(
    value: Any, default: str | None, where: tuple[int, int | None], problems: _Problems
) -> str | None:
    if value is not None and str(value).strip():
        found = kind_of_value(str(value))
        if found is None:
            problems.add(where[0], "kind", where[1], value=str(value)[:40])
        return found
    if default is None:
        problems.add(where[0], "no_kind", where[1])
    return default


def _number(
    raw: Any, field_name: str, where: tuple[int, int | None], problems: _Problems
) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        problems.add(where[0], "required", where[1], field=field_name)
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        problems.add(where[0], "number", where[1], field=field_name, value=str(raw)[:20])
        return None
    try:
        value = float(unicodedata.normalize("NFKC", str(raw)).strip())
    except ValueError:
        problems.add(where[0], "number", where[1], field=field_name, value=str(raw)[:20])
        return None
    if not math.isfinite(value):
        problems.add(where[0], "number", where[1], field=field_name, value=str(raw)[:20])
        return None
    return value


# Where a site may be: Japan, and within ~1 km of the municipality's (simplified) outline.
SITE_TOLERANCE = 0.01


def _location(
    values: dict[str, Any],
    cell: Callable[[str], Any],
    label: Callable[[str], str],
    place: Place,
    where: tuple[int, int | None],
    problems: _Problems,
) -> tuple[float | None, float | None]:
    if "\0lat" in values:  # a GeoJSON point
        lat = _number(values["\0lat"], "latitude", where, problems)
        lon = _number(values["\0lon"], "longitude", where, problems)
    else:
        lat = _number(cell("lat"), label("lat"), where, problems)
        lon = _number(cell("lon"), label("lon"), where, problems)
    if lat is None or lon is None:
        return None, None
    if 122 <= lat <= 154 and 20 <= lon <= 46:
        problems.add(where[0], "swapped", where[1])
        return None, None
    if not 20 <= lat <= 46:
        problems.add(where[0], "range", where[1], field=label("lat"), value=lat)
        return None, None
    if not 122 <= lon <= 154:
        problems.add(where[0], "range", where[1], field=label("lon"), value=lon)
        return None, None
    if place.outline is not None:
        from shapely import Point

        if place.outline.distance(Point(lon, lat)) > SITE_TOLERANCE:
            problems.add(
                where[0],
                "site_outside",
                where[1],
                lat=lat,
                lon=lon,
                place=place.name,
                place_en=place.name_en,
            )
            return None, None
    return lat, lon


def _capacity(
    text: str | None, label: str, where: tuple[int, int | None], problems: _Problems
) -> int | None:
    if text is None:
        return None
    digits = text.replace(",", "").removesuffix("人").strip()
    if not digits.isdigit() or not digits.isascii():
        problems.add(where[0], "number", where[1], field=label, value=text[:20])
        return None
    value = int(digits[:10])
    if value > 1_000_000:
        problems.add(where[0], "range", where[1], field=label, value=value)
        return None
    return value


def _hazards(
    columns: SiteColumns,
    values: dict[str, Any],
    listed: Any,
    where: tuple[int, int | None],
    problems: _Problems,
) -> tuple[str, ...]:
    safe: set[str] = set()
    for key, column in columns.hazards.items():
        raw = values.get(column)
        answer = truth(raw)
        if answer is None:
            problems.add(where[0], "flag", where[1], field=column, value=str(raw)[:20])
        elif answer:
            safe.add(key)
    if listed is not None:  # GeoJSON: "hazards": ["flood", "地震", …]
        items = listed if isinstance(listed, list) else re.split(r"[,、\s]+", str(listed))
        for item in items:
            if not str(item).strip():
                continue
            named = hazard_key(str(item))
            if named is None:
                problems.add(where[0], "hazard", where[1], value=str(item)[:40])
            else:
                safe.add(named)
    return tuple(k for k in HAZARD_KEYS if k in safe)
