"""Typed readings of CAP text values: date-times, coordinates, polygons, circles, tags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

# CAP 1.2 §3.3.2: date-times carry an explicit offset; "Z" is not allowed, UTC is "-00:00".
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([-+])(\d{2}):(\d{2})$")
# RFC 3066 (which CAP cites for `language`): primary tag of 1-8 letters, subtags of 1-8 alnum.
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_NUMBER_TEXT = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_NUMBER = re.compile(f"^{_NUMBER_TEXT}$")
_POLYGON = re.compile(
    rf"^\s*{_NUMBER_TEXT},{_NUMBER_TEXT}(?:\s+{_NUMBER_TEXT},{_NUMBER_TEXT})*\s*$"
)


class CapValueError(ValueError):
    """A value that does not read as CAP says it must; the message is meant for people."""


def parse_datetime(text: str) -> datetime:
    """Read a CAP date-time (``2024-01-01T09:00:00+09:00``) into an aware ``datetime``."""
    match = _DATETIME.match(text)
    if match is None:
        if text.endswith("Z"):
            raise CapValueError(f"'{text}' uses 'Z'; CAP requires a numeric offset (UTC is -00:00)")
        raise CapValueError(
            f"'{text}' is not a CAP date-time of the form YYYY-MM-DDThh:mm:ss+hh:mm"
        )
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    offset_hours, offset_minutes = int(off_h), int(off_m)
    if offset_hours > 14 or offset_minutes > 59:
        raise CapValueError(f"'{text}' has an impossible UTC offset {sign}{off_h}:{off_m}")
    delta = timedelta(hours=offset_hours, minutes=offset_minutes)
    tz = timezone(-delta if sign == "-" else delta) if delta else UTC
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz
        )
        # 0001-01-01T00:00:00+14:00 or 9999-12-31T23:59:59-14:00 exist only in their own
        # zone: in UTC they fall outside years 1-9999, and every comparison would overflow.
        moment.astimezone(UTC)
    except ValueError as exc:
        raise CapValueError(f"'{text}' is not a real date-time: {exc}") from None
    except OverflowError:
        raise CapValueError(f"'{text}' is outside the years a date-time can have in UTC") from None
    return moment


def format_datetime(moment: datetime) -> str:
    """Write an aware ``datetime`` the way CAP wants it (UTC as ``-00:00``, no fractions)."""
    if moment.tzinfo is None:
        raise ValueError("CAP date-times need a time zone")
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def is_language_tag(text: str) -> bool:
    return _LANGUAGE.match(text) is not None


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


def parse_point(text: str) -> Point:
    """Read ``lat,lon`` in WGS 84 decimal degrees, checking the ranges."""
    parts = text.split(",")
    if len(parts) != 2 or not all(_NUMBER.match(p) for p in parts):
        raise CapValueError(f"'{text}' is not a coordinate pair of the form lat,lon")
    lat, lon = float(parts[0]), float(parts[1])
    if not -90.0 <= lat <= 90.0:
        raise CapValueError(f"latitude {parts[0]} in '{text}' is outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise CapValueError(f"longitude {parts[1]} in '{text}' is outside -180..180")
    return Point(lat, lon)


def parse_polygon(text: str) -> list[Point]:
    """Read a CAP polygon: space-separated pairs, at least four, first equal to last."""
    tokens = text.split()
    if not tokens:
        raise CapValueError("polygon is empty; it needs at least 4 coordinate pairs")
    if _POLYGON.match(text):
        # Well-formed throughout (checked by one regex in C); only the ranges remain.
        points = [Point(float(a), float(b)) for a, b in (token.split(",") for token in tokens)]
        if any(not (-90.0 <= p.lat <= 90.0 and -180.0 <= p.lon <= 180.0) for p in points):
            points = [parse_point(token) for token in tokens]  # names the offending pair
    else:
        points = [parse_point(token) for token in tokens]
    if len(points) < 4:
        raise CapValueError(f"polygon has {len(points)} points; CAP requires at least 4")
    if points[0] != points[-1]:
        raise CapValueError(
            f"polygon is not closed: first point {tokens[0]} differs from last point {tokens[-1]}"
        )
    return points


@dataclass(frozen=True, slots=True)
class Circle:
    center: Point
    radius_km: float


def parse_circle(text: str) -> Circle:
    """Read a CAP circle: ``lat,lon radius`` with the radius in kilometres."""
    tokens = text.split()
    if len(tokens) != 2:
        raise CapValueError(f"'{text}' is not a circle of the form 'lat,lon radius'")
    center = parse_point(tokens[0])
    if not _NUMBER.match(tokens[1]):
        raise CapValueError(f"circle radius '{tokens[1]}' is not a number (kilometres)")
    radius = float(tokens[1])
    if radius < 0:
        raise CapValueError(f"circle radius {tokens[1]} is negative")
    return Circle(center, radius)


def is_decimal(text: str) -> bool:
    return _NUMBER.match(text.strip()) is not None
