"""Evacuation information (避難情報): warning levels 3, 4 and 5 as CAP, in standard wording.

| level | Japanese | English | urgency | severity |
| --- | --- | --- | --- | --- |
| 3 | 高齢者等避難 | Elderly and others evacuate | Expected | Moderate |
| 4 | 避難指示 | Evacuation order | Immediate | Severe |
| 5 | 緊急安全確保 | Emergency safety measures | Immediate | Extreme |

Each message has an ``info`` per language of the phrase table (``jp/phrases.py``:
Japanese, English, Chinese, Korean, Portuguese, Vietnamese and Easy Japanese), one ``area``
per district (or the whole municipality), the level as ``eventCode``
``JP:evacuation-level`` and the hazard as ``parameter`` ``JP:hazard``. Raising or lowering
the level is an Update of the message in force; lifting (解除) is a Cancel of it.
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


def build(
    order: Order,
    sender: str,
    *,
    replaces: tuple[str, str] | None = None,  # (identifier, sent) of the message in force
    lift: bool = False,
    now: datetime | None = None,
    languages: tuple[str, ...] | None = None,  # default: every language of the phrase table
) -> Alert:
    moment = (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    expires = format_datetime(moment + timedelta(hours=order.hours))
    place = name_of(order.municipality)
    level = LEVELS[order.level]
    responses = ["AllClear"] if lift else [level.response]

    def texts(language: str) -> tuple[str, str, str, str | None]:
        """(event, headline, description, instruction) from the phrase table."""
        event = phrases.phrase("evacuation", f"level.{order.level}", language)
        hazard = phrases.phrase("evacuation", f"hazard.{order.hazard}", language)
        town = phrases.place_name(order.municipality, language)
        named = [phrases.local_name(d.name, language) for d in order.districts]
        where = phrases.separator(language).join(named) or phrases.phrase(
            "evacuation", "where.all", language, place=town
        )
        # Japanese headlines name the municipality before its districts, as they always have.
        where_head = f"{town} {where}" if named and language == phrases.JA else where
        values: dict[str, str | int] = {
            "level": order.level,
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
        instruction = phrases.phrase("evacuation", f"instruction.{order.level}", language)
        return event, headline, text, instruction

    def info(language: str) -> Info:
        event, headline, text, instruction = texts(language)
        return Info(
            language=language,
            categories=["Safety"],
            event=event,
            response_types=list(responses),
            urgency="Past" if lift else level.urgency,
            severity="Minor" if lift else level.severity,
            certainty="Observed" if lift else "Likely",
            event_codes=[ValuePair(LEVEL_CODE, str(order.level))],
            effective=sent,
            expires=expires,
            sender_name=place,
            headline=headline,
            description=text,
            instruction=instruction,
            parameters=[ValuePair(HAZARD_CODE, order.hazard)],
            areas=_areas(order, language),
        )

    identifier = f"evac-{order.municipality}-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    return Alert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=order.status,
        msg_type="Cancel" if lift else ("Update" if replaces else "Alert"),
        scope="Public",
        references=f"{sender},{replaces[0]},{replaces[1]}" if replaces else None,
        infos=[info(language) for language in phrases.wanted(languages)],
    )


def _areas(order: Order, language: str) -> list[Area]:
    """The areas, described in the reader's script (the geocodes are the same for all)."""
    place = phrases.place_name(order.municipality, language)
    code = with_check_digit(normalize(order.municipality))
    geocode = [ValuePair("JIS X 0402", code)]
    if not order.districts:
        return [Area(area_desc=place, geocodes=geocode)]
    return [
        Area(
            area_desc=f"{place} {phrases.local_name(d.name, language)}",
            polygons=[d.polygon] if d.polygon else [],
            geocodes=list(geocode),
        )
        for d in order.districts
    ]


def level_of(document: dict[str, Any]) -> int | None:
    """The evacuation level a stored alert (its CAP JSON) carries, if it is one."""
    for info in document.get("info", []) or []:
        for pair in info.get("eventCode", []):
            if pair.get("valueName") == LEVEL_CODE and str(pair.get("value")).isdigit():
                return int(str(pair.get("value")))
    return None
