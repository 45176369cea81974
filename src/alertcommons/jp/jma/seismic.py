"""Earthquake reports as receivers need them: where it shook (or will shake), how hard, and
what the quake was.

震度速報 (VXSE51), 震源に関する情報 (VXSE52), 震源・震度に関する情報 (VXSE53), 長周期地震動に
関する観測情報 (VXSE62) and 緊急地震速報 (VXSE43/44/45) carry their places in the body, nested
``Pref`` → ``Area`` → ``City``, each with its intensity. They become one CAP ``area`` per
intensity, most intense first, with every level's codes as geocodes: the prefecture
(``JMA:seismic-pref`` or ``JMA:eew-pref``), the JMA seismic area (``JMA:seismic``) and the
municipality (``JMA:city`` and its local-government code ``JIS X 0402``, through the table
the jurisdiction check uses, :mod:`alertcommons.jp.jma_areas`). Each code's intensity also
travels in a parameter ``JMA:intensity:<valueName>`` = ``<intensity> <code> <code> …`` (or
``JMA:long-period-class:…``, ``JMA:forecast-intensity:…``), so a receiver can tell how hard
its own place shook.

A report that names municipalities (VXSE53) routes on them, not on prefecture-wide codes: a
municipality subscriber whose town did not shake does not get it. A report that names only
seismic areas (VXSE51, VXSE62, the early warnings) adds each prefecture's local-government
code, so that local-government subscribers there are reached at all.

Severity and urgency follow the highest intensity, by the tables below (docs/profile-jp.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from lxml import etree

from alertcommons.cap.model import Area, ValuePair
from alertcommons.jp.codes import with_check_digit
from alertcommons.jp.jma.areas import code_type, local_government
from alertcommons.jp.jma.common import body_of, child, child_text, children, is_element
from alertcommons.jp.jma_areas import places_of

INTENSITIES = ("0", "1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")
LONG_PERIOD_CLASSES = ("0", "1", "2", "3", "4")
UNRECEIVED = "震度５弱以上未入電"  # a station of 5- or more whose value has not arrived

# (severity, urgency) by the highest intensity, one table per scale. Intensity 5- is where
# the JMA starts to speak of damage (and issues an early warning), 6- where buildings fall.
OBSERVED: dict[str, tuple[str, str]] = {
    "0": ("Minor", "Past"),
    "1": ("Minor", "Past"),
    "2": ("Minor", "Past"),
    "3": ("Moderate", "Past"),
    "4": ("Moderate", "Past"),
    "5-": ("Severe", "Immediate"),
    "5+": ("Severe", "Immediate"),
    "6-": ("Extreme", "Immediate"),
    "6+": ("Extreme", "Immediate"),
    "7": ("Extreme", "Immediate"),
}
# A forecast is of shaking still to come: Immediate, unless it is too weak to act on.
FORECAST: dict[str, tuple[str, str]] = {
    level: (severity, "Expected" if severity == "Minor" else "Immediate")
    for level, (severity, _) in OBSERVED.items()
}
LONG_PERIOD: dict[str, tuple[str, str]] = {
    "0": ("Minor", "Past"),
    "1": ("Minor", "Past"),
    "2": ("Moderate", "Past"),
    "3": ("Severe", "Immediate"),
    "4": ("Extreme", "Immediate"),
}

INTENSITY_JA = {"5-": "5弱", "5+": "5強", "6-": "6弱", "6+": "6強"}
INTENSITY_EN = {"5-": "5 lower", "5+": "5 upper", "6-": "6 lower", "6+": "6 upper"}


@dataclass(frozen=True, slots=True)
class Scale:
    """How a report measures shaking: its order of levels, grades and names."""

    key: str  # the parameter name's stem
    order: tuple[str, ...]
    grades: dict[str, tuple[str, str]]
    ja: str  # label before a level: 震度, 長周期地震動階級
    en: str

    def rank(self, level: str) -> int:
        return self.order.index(level) if level in self.order else -1

    def label_ja(self, level: str) -> str:
        return f"{self.ja}{INTENSITY_JA.get(level, level)}"

    def label_en(self, level: str) -> str:
        return f"{self.en} {INTENSITY_EN.get(level, level)}"


SEISMIC_INTENSITY = Scale("intensity", INTENSITIES, OBSERVED, "震度", "intensity")
FORECAST_INTENSITY = Scale("forecast-intensity", INTENSITIES, FORECAST, "予想震度", "forecast")
LONG_PERIOD_CLASS = Scale(
    "long-period-class", LONG_PERIOD_CLASSES, LONG_PERIOD, "長周期地震動階級", "long-period class"
)


@dataclass(frozen=True, slots=True)
class Place:
    value_name: str  # JMA:city, JMA:seismic, JMA:seismic-pref, JMA:eew-pref
    code: str
    name: str
    level: str
    unreceived: bool = False  # 震度５弱以上未入電: at least 5-, value not yet in


@dataclass(slots=True)
class Quake:
    """The earthquake itself, as the report describes it."""

    origin: datetime | None = None
    epicentre: str = ""
    epicentre_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    depth_km: int | None = None
    shallow: bool = False  # ごく浅い
    magnitude: str = ""  # "7.0"; "" when unknown
    magnitude_ja: str = ""  # the JMA's own wording, "M7.0", "M8を超える巨大地震"


@dataclass(slots=True)
class Seismic:
    scale: Scale
    quake: Quake | None = None
    top: str | None = None  # the highest level in the report
    places: list[Place] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)  # (fixed-phrase code, text)
    conditions: list[str] = field(default_factory=list)  # 既に主要動到達と推測 …

    def grade(self) -> tuple[str, str] | None:
        """(severity, urgency) by the highest level, or None when the report gives none."""
        if self.top is None:
            return None
        return self.scale.grades.get(self.top)

    @property
    def fine(self) -> bool:
        """Does the report name municipalities?"""
        return any(p.value_name == "JMA:city" for p in self.places)


def read(root: etree._Element, key: str) -> Seismic:
    """The earthquake, its places and comments, from a report of kind ``key``."""
    body = body_of(root)
    intensity = child(body, "Intensity")
    forecast = child(intensity, "Forecast")
    if forecast is not None:
        found = Seismic(FORECAST_INTENSITY)
        _forecast(forecast, found)
    else:
        scale = LONG_PERIOD_CLASS if key == "long-period" else SEISMIC_INTENSITY
        found = Seismic(scale)
        observation = child(intensity, "Observation")
        if observation is not None:
            _observation(observation, found)
    found.quake = _quake(child(body, "Earthquake"))
    comments = child(body, "Comments")
    for comment in comments if comments is not None else []:
        if not is_element(comment, ("ForecastComment", "WarningComment", "VarComment")):
            continue
        codes = child_text(comment, "Code").split()
        lines = [ln.strip() for ln in child_text(comment, "Text").splitlines() if ln.strip()]
        lines = [ln for ln in lines if ln != "\u3000"]
        if len(codes) == len(lines):
            found.comments.extend(zip(codes, lines, strict=True))
        else:  # paragraphs of several lines: the text whole, with all its phrases' codes
            found.comments.append((" ".join(codes), "\n".join(lines)))
    free = child(comments, "FreeFormComment")
    if free is not None and (free.text or "").strip():
        found.comments.append(("", (free.text or "").strip()))
    return found


def _observation(observation: etree._Element, found: Seismic) -> None:
    tag = "MaxLgInt" if found.scale is LONG_PERIOD_CLASS else "MaxInt"
    found.top = _level(child_text(observation, tag), found.scale)
    for pref in children(observation, "Pref"):
        _place(found, pref, child_text(pref, tag))
        for area in children(pref, "Area"):
            _place(found, area, child_text(area, tag))
            for city in children(area, "City"):
                _place(found, city, child_text(city, tag) or child_text(city, "Condition"))
    if found.top is None:
        found.top = _highest(found)


def _forecast(forecast: etree._Element, found: Seismic) -> None:
    found.top = _forecast_level(child(forecast, "ForecastInt"))
    for pref in children(forecast, "Pref"):
        levels = []
        for area in children(pref, "Area"):
            level = _forecast_level(child(area, "ForecastInt"))
            if level is None:
                continue
            levels.append(level)
            _place(found, area, level)
            condition = child_text(area, "Condition")
            if condition and condition not in found.conditions:
                found.conditions.append(condition)
        if levels:
            _place(found, pref, max(levels, key=found.scale.rank))
    if found.top is None:
        found.top = _highest(found)


def _forecast_level(element: etree._Element | None) -> str | None:
    """An early warning's forecast: ``From``–``To``; ``To`` of ``over`` means From or more."""
    if element is None:
        return None
    low, high = child_text(element, "From"), child_text(element, "To")
    level = low if high in ("", "over") else high
    return level if level in INTENSITIES else None


def _place(found: Seismic, element: etree._Element, level_text: str) -> None:
    code, name = child_text(element, "Code"), child_text(element, "Name")
    level = _level(level_text, found.scale)
    if not (code.isascii() and code.isdigit()) or level is None:
        return
    unreceived = level_text == UNRECEIVED
    found.places.append(Place(code_type(element), code, name or code, level, unreceived))


def _level(text: str, scale: Scale) -> str | None:
    if text == UNRECEIVED:
        return "5-"  # at least 5-: graded as 5-, said as "5弱以上未入電"
    plain = unicodedata.normalize("NFKC", text).strip()
    return plain if plain in scale.order else None


def _highest(found: Seismic) -> str | None:
    levels = [p.level for p in found.places]
    return max(levels, key=found.scale.rank) if levels else None


_COORDINATE = re.compile(r"^([+-][0-9.]+)([+-][0-9.]+)(?:([+-][0-9]+))?/?$")


def _quake(earthquake: etree._Element | None) -> Quake | None:
    if earthquake is None:
        return None
    quake = Quake()
    origin = child_text(earthquake, "OriginTime") or child_text(earthquake, "ArrivalTime")
    try:
        quake.origin = datetime.fromisoformat(origin) if origin else None
    except ValueError:
        quake.origin = None
    area = child(child(earthquake, "Hypocenter"), "Area")
    if area is not None:
        quake.epicentre = child_text(area, "Name")
        quake.epicentre_code = child_text(area, "Code")
        coordinate = child(area, "Coordinate")
        if coordinate is not None:
            description = unicodedata.normalize("NFKC", coordinate.get("description", ""))
            quake.shallow = "ごく浅い" in description
            match = _COORDINATE.match((coordinate.text or "").strip())
            if match:
                quake.latitude, quake.longitude = float(match[1]), float(match[2])
                if match[3] is not None:
                    quake.depth_km = round(-int(match[3]) / 1000)
    magnitude = child(earthquake, "Magnitude")
    if magnitude is not None:
        value = (magnitude.text or "").strip()
        quake.magnitude = value if value and value.lower() != "nan" else ""
        described = magnitude.get("description", "")
        quake.magnitude_ja = unicodedata.normalize("NFKC", described) or (
            f"M{quake.magnitude}" if quake.magnitude else ""
        )
    return quake


def areas(found: Seismic, limit: int = 3_900) -> list[Area]:
    """One CAP area per level, most intense first, each with every code at that level."""
    levels = sorted({p.level for p in found.places}, key=found.scale.rank, reverse=True)
    named = "JMA:city" if found.fine else "JMA:seismic"
    routed: set[str] = set()  # a local-government code routes from its highest level only
    result = []
    for level in levels:
        here = [p for p in found.places if p.level == level]
        geocodes = []
        for place in here:
            geocodes.append(ValuePair(place.value_name, place.code))
            for local in _local_codes(place, found.fine):
                if local not in routed:
                    routed.add(local)
                    geocodes.append(ValuePair("JIS X 0402", local))
        names = [p.name for p in here if p.value_name == named] or [p.name for p in here]
        label = found.scale.label_ja(level)
        if any(p.unreceived for p in here):
            label = "震度5弱以上未入電を含む" + label
        result.append(Area(area_desc=_listed(f"{label}：", names, limit), geocodes=geocodes))
    return result


def parameters(found: Seismic) -> list[ValuePair]:
    """The highest level, the quake's size and depth, and each code's own level."""
    pairs = []
    if found.top is not None:
        pairs.append(ValuePair(f"JMA:max-{found.scale.key}", found.top))
    quake = found.quake
    if quake is not None:
        if quake.epicentre:
            pairs.append(ValuePair("JMA:epicentre", quake.epicentre))
        if quake.magnitude:
            pairs.append(ValuePair("JMA:magnitude", quake.magnitude))
        if quake.depth_km is not None:
            pairs.append(ValuePair("JMA:depth-km", str(quake.depth_km)))
    # Each code's level, compactly: per kind of code and level, "<level> <code> <code> …"
    # (split to stay under a parameter's length limit), as a report of a great quake names
    # over a thousand municipalities.
    by_level: dict[tuple[str, str], list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for place in sorted(found.places, key=lambda p: found.scale.rank(p.level), reverse=True):
        for value_name, code in [
            (place.value_name, place.code),
            *(("JIS X 0402", local) for local in _local_codes(place, found.fine)),
        ]:
            if (value_name, code) not in seen:
                seen.add((value_name, code))
                by_level.setdefault((value_name, place.level), []).append(code)
    for (value_name, level), codes in by_level.items():
        for start in range(0, len(codes), PER_PARAMETER):
            chunk = " ".join(codes[start : start + PER_PARAMETER])
            pairs.append(ValuePair(f"JMA:{found.scale.key}:{value_name}", f"{level} {chunk}"))
    return pairs


PER_PARAMETER = 400  # codes in one parameter value: 400 codes of 8 characters, under 4,000


def _local_codes(place: Place, fine: bool) -> list[str]:
    """The local-government codes a place routes to: a municipality always; a prefecture
    only in a report that names no municipalities."""
    if place.value_name == "JMA:city":
        local = local_government(place.value_name, place.code)
        return [local] if local else []
    if fine or place.value_name not in ("JMA:seismic-pref", "JMA:eew-pref"):
        return []
    return [with_check_digit(p + "000") for p in places_of(place.value_name, place.code) or ()]


def _listed(prefix: str, names: list[str], limit: int) -> str:
    text = prefix
    for index, name in enumerate(dict.fromkeys(names)):
        piece = ("、" if index else "") + name
        if len(text) + len(piece) > limit:
            return text + "ほか"
        text += piece
    return text


JST = timezone(timedelta(hours=9), "JST")


def describe(found: Seismic, headline: str, areas: list[Area]) -> str:
    """What a person needs, in the JMA's words and order: time, epicentre, depth, magnitude,
    the highest intensity, the places at each intensity, and the comments (tsunami …)."""
    lines = [headline] if headline else []
    quake = found.quake
    if quake is not None:
        if quake.origin is not None:
            at = quake.origin.astimezone(JST)
            lines.append(
                f"発生時刻：{at.year}年{at.month}月{at.day}日{at.hour}時{at.minute:02d}分ころ"
            )
        if quake.epicentre:
            where = f"（{position_ja(quake)}）" if quake.latitude is not None else ""
            lines.append(f"震央地名：{quake.epicentre}{where}")
        if quake.shallow:
            lines.append("深さ：ごく浅い")
        elif quake.depth_km is not None:
            lines.append(f"深さ：約{quake.depth_km}km")
        lines.append(f"マグニチュード：{quake.magnitude_ja or '不明'}")
    if found.top is not None:
        lines.append(f"最大{found.scale.label_ja(found.top)}")
    if found.places:
        lines.extend(area.area_desc or "" for area in areas)
    lines.extend(found.conditions)
    lines.extend(text for _, text in found.comments)
    return "\n".join(line for line in lines if line)


def position_ja(quake: Quake) -> str:
    lat, lon = quake.latitude or 0.0, quake.longitude or 0.0
    north = "北緯" if lat >= 0 else "南緯"
    east = "東経" if lon >= 0 else "西経"
    return f"{north}{abs(lat):.1f}度 {east}{abs(lon):.1f}度"


def position_en(quake: Quake) -> str:
    lat, lon = quake.latitude or 0.0, quake.longitude or 0.0
    return f"{abs(lat):.1f}{'N' if lat >= 0 else 'S'}, {abs(lon):.1f}{'E' if lon >= 0 else 'W'}"


def names_by_level(found: Seismic) -> list[tuple[str, list[str]]]:
    """The places named at each level, most intense first (municipalities where given)."""
    named = "JMA:city" if found.fine else "JMA:seismic"
    levels = sorted({p.level for p in found.places}, key=found.scale.rank, reverse=True)
    result = []
    for level in levels:
        here = [p for p in found.places if p.level == level]
        names = [p.name for p in here if p.value_name == named] or [p.name for p in here]
        result.append((level, list(dict.fromkeys(names))))
    return result
