"""Evacuation information (避難情報): warning levels 3, 4 and 5 as CAP, in standard wording.

| level | Japanese | English | urgency | severity |
| --- | --- | --- | --- | --- |
| 3 | 高齢者等避難 | Elderly and others evacuate | Expected | Moderate |
| 4 | 避難指示 | Evacuation order | Immediate | Severe |
| 5 | 緊急安全確保 | Emergency safety measures | Immediate | Extreme |

Each message has an ``info`` per language of the phrase table (``jp/phrases.py``:
Japanese, English, Chinese, Korean, Portuguese, Vietnamese and Easy Japanese), one ``area``
per district (or the whole municipality), the level as ``eventCode``
``JP:evacuation-level`` and the hazard as ``parameter`` ``JP:hazard``.

A municipality's evacuation information is the set of orders in force, carried in one
message that lists them all: an ``info`` per language and per (level, hazard), each with its
own areas, and a ``JP:order`` parameter per area saying since when that order has stood. Every
change is an Update holding the complete new state; lifting the last orders is a Cancel.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.jp import phrases
from alertcommons.jp.codes import name_of, normalize, with_check_digit

JST = timezone(timedelta(hours=9))
LEVEL_CODE = "JP:evacuation-level"
HAZARD_CODE = "JP:hazard"
# One per order an info carries, in the order of its areas: "<since>[ <district>]".
ORDER_CODE = "JP:order"


@dataclass(frozen=True, slots=True)
class Level:
    ja: str
    en: str
    urgency: str
    severity: str
    response: str
    instruction_ja: str
    instruction_en: str


LEVELS = {
    3: Level(
        "高齢者等避難",
        "Elderly and others evacuate",
        "Expected",
        "Moderate",
        "Evacuate",
        "危険な場所から高齢者等は避難してください。",
        "Older people and others who need time must leave dangerous places now.",
    ),
    4: Level(
        "避難指示",
        "Evacuation order",
        "Immediate",
        "Severe",
        "Evacuate",
        "危険な場所から全員避難してください。",
        "Everyone must leave dangerous places now.",
    ),
    5: Level(
        "緊急安全確保",
        "Emergency safety measures",
        "Immediate",
        "Extreme",
        "Shelter",
        "命の危険があります。直ちに身の安全を確保してください。",
        "Your life is in danger. Secure your safety immediately.",
    ),
}

HAZARDS = {
    "flood": ("洪水", "flood"),
    "inland_flood": ("内水氾濫", "inland flooding"),
    "landslide": ("土砂災害", "landslide"),
    "storm_surge": ("高潮", "storm surge"),
    "tsunami": ("津波", "tsunami"),
    "heavy_rain": ("大雨", "heavy rain"),
    "other": ("災害", "disaster"),
}


@dataclass(frozen=True, slots=True)
class District:
    name: str
    polygon: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    municipality: str  # canonical 5-digit code
    level: int
    hazard: str
    districts: tuple[District, ...] = ()
    hours: float = 24.0
    status: str = "Actual"


@dataclass(frozen=True, slots=True)
class Standing:
    """One order in force: a district (None: the whole municipality), its level and hazard,
    and since when it has stood at that level (a CAP date-time)."""

    district: District | None
    level: int
    hazard: str
    since: str

    @property
    def key(self) -> str | None:
        return self.district.name if self.district else None


def moment_of(now: datetime | None = None) -> datetime:
    """The second a message is sent at, in Japan's time (as every message of ours says it)."""
    return (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)


def build(
    order: Order,
    sender: str,
    *,
    replaces: tuple[str, str] | None = None,  # (identifier, sent) of the message in force
    lift: bool = False,
    now: datetime | None = None,
    languages: tuple[str, ...] | None = None,  # default: every language of the phrase table
) -> Alert:
    """The message for one order (every district at one level)."""
    since = format_datetime(moment_of(now))
    standing = [Standing(d, order.level, order.hazard, since) for d in order.districts or (None,)]
    return build_state(
        order.municipality,
        standing,
        sender,
        status=order.status,
        hours=order.hours,
        replaces=replaces,
        lift=lift,
        now=now,
        languages=languages,
    )


def build_state(
    municipality: str,
    orders: list[Standing],
    sender: str,
    *,
    status: str = "Actual",
    hours: float = 24.0,
    replaces: tuple[str, str] | None = None,
    lift: bool = False,
    now: datetime | None = None,
    languages: tuple[str, ...] | None = None,
) -> Alert:
    """One message holding every order in force for a municipality (L-Alert's way): an
    ``info`` per language and per (level, hazard), highest level first, each with its own
    areas. ``lift`` makes it the Cancel that lifts all of ``orders``."""
    moment = moment_of(now)
    sent = format_datetime(moment)
    expires = format_datetime(moment + timedelta(hours=hours))
    place = name_of(municipality)
    groups: dict[tuple[int, str], list[Standing]] = {}
    for standing in sorted(orders, key=lambda o: -o.level):
        groups.setdefault((standing.level, standing.hazard), []).append(standing)

    def texts(
        language: str, level_number: int, hazard_key: str, members: list[Standing]
    ) -> tuple[str, str, str, str | None]:
        """(event, headline, description, instruction) from the phrase table."""
        event = phrases.phrase("evacuation", f"level.{level_number}", language)
        hazard = phrases.phrase("evacuation", f"hazard.{hazard_key}", language)
        town = phrases.place_name(municipality, language)
        # An order for the whole municipality covers its districts: name the municipality.
        whole = any(m.district is None for m in members)
        named = [] if whole else [phrases.local_name(m.key or "", language) for m in members]
        where = phrases.separator(language).join(named) or phrases.phrase(
            "evacuation", "where.all", language, place=town
        )
        # Japanese headlines name the municipality before its districts, as they always have.
        where_head = f"{town} {where}" if named and language == phrases.JA else where
        values: dict[str, str | int] = {
            "level": level_number,
            "event": event,
            "hazard": hazard,
            "place": town,
        }
        values["event_lower"] = event.lower()
        if lift:
            headline = phrases.phrase(
                "evacuation", "headline.lift", language, **values, where=where_head
            )
            text = phrases.phrase("evacuation", "text.lift", language, **values, where=where)
            return event, headline, text, None
        headline = phrases.phrase("evacuation", "headline", language, **values, where=where_head)
        text = phrases.phrase("evacuation", "text", language, **values, where=where)
        instruction = phrases.phrase("evacuation", f"instruction.{level_number}", language)
        return event, headline, text, instruction

    def info(language: str, level_number: int, hazard_key: str, members: list[Standing]) -> Info:
        level = LEVELS[level_number]
        event, headline, text, instruction = texts(language, level_number, hazard_key, members)
        # Whole-municipality order first, then the districts: areas and JP:order line up.
        members = sorted(members, key=lambda m: m.district is not None)
        return Info(
            language=language,
            categories=["Safety"],
            event=event,
            response_types=["AllClear"] if lift else [level.response],
            urgency="Past" if lift else level.urgency,
            severity="Minor" if lift else level.severity,
            certainty="Observed" if lift else "Likely",
            event_codes=[ValuePair(LEVEL_CODE, str(level_number))],
            effective=sent,
            expires=expires,
            sender_name=place,
            headline=headline,
            description=text,
            instruction=instruction,
            parameters=[ValuePair(HAZARD_CODE, hazard_key)]
            + [ValuePair(ORDER_CODE, _order_value(m)) for m in members],
            areas=[_area(municipality, m.district, language) for m in members],
        )

    identifier = f"evac-{municipality}-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    return Alert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type="Cancel" if lift else ("Update" if replaces else "Alert"),
        scope="Public",
        references=f"{sender},{replaces[0]},{replaces[1]}" if replaces else None,
        infos=[
            info(language, level_number, hazard_key, members)
            for language in phrases.wanted(languages)
            for (level_number, hazard_key), members in groups.items()
        ],
    )


def _order_value(standing: Standing) -> str:
    """``since`` then, for a district, a space and its name (CAP date-times have no spaces)."""
    return f"{standing.since} {standing.key}" if standing.key is not None else standing.since


def _area(municipality: str, district: District | None, language: str) -> Area:
    """An area, described in the reader's script (the geocode is the same for all)."""
    place = phrases.place_name(municipality, language)
    geocode = [ValuePair("JIS X 0402", with_check_digit(normalize(municipality)))]
    if district is None:
        return Area(area_desc=place, geocodes=geocode)
    return Area(
        area_desc=f"{place} {phrases.local_name(district.name, language)}",
        polygons=[district.polygon] if district.polygon else [],
        geocodes=geocode,
    )


def orders_of(document: dict[str, Any]) -> list[Standing]:
    """The orders a stored evacuation message (its CAP JSON) holds, highest level first.
    Messages from before several orders were held (no ``JP:order``) give their areas."""
    found: dict[str | None, Standing] = {}
    sent = str(document.get("sent") or "")
    for info in document.get("info", []) or []:
        levels = [
            int(str(p.get("value")))
            for p in info.get("eventCode", []) or []
            if p.get("valueName") == LEVEL_CODE and str(p.get("value")).isdigit()
        ]
        if not levels:
            continue
        parameters = info.get("parameter", []) or []
        hazard = next(
            (str(p.get("value")) for p in parameters if p.get("valueName") == HAZARD_CODE),
            "other",
        )
        marks = [str(p.get("value")) for p in parameters if p.get("valueName") == ORDER_CODE]
        areas = info.get("area", []) or []
        if not marks:  # an older message: one order; a district's areaDesc is "<place> <name>"
            marks = [
                f"{sent} {desc.partition(' ')[2]}" if " " in desc else sent
                for desc in (str(a.get("areaDesc") or "") for a in areas)
            ] or [sent]
        for number, mark in enumerate(marks):
            since, _, name = mark.partition(" ")
            key = name or None
            if key in found:
                continue
            area = areas[number] if number < len(areas) else {}
            polygons = area.get("polygon") or []
            district = None if key is None else District(key, polygons[0] if polygons else None)
            found[key] = Standing(district, levels[0], hazard, since)
    return sorted(found.values(), key=lambda o: (-o.level, o.key is not None, o.key or ""))


def level_of(document: dict[str, Any]) -> int | None:
    """The evacuation level a stored alert (its CAP JSON) carries, if it is one."""
    for info in document.get("info", []) or []:
        for pair in info.get("eventCode", []):
            if pair.get("valueName") == LEVEL_CODE and str(pair.get("value")).isdigit():
                return int(str(pair.get("value")))
    return None
