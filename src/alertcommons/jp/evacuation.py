"""Evacuation information (避難情報): warning levels 3, 4 and 5 as CAP, in standard wording.

| level | Japanese | English | urgency | severity |
| --- | --- | --- | --- | --- |
| 3 | 高齢者等避難 | Elderly and others evacuate | Expected | Moderate |
| 4 | 避難指示 | Evacuation order | Immediate | Severe |
| 5 | 緊急安全確保 | Emergency safety measures | Immediate | Extreme |

Each message has a Japanese ``info`` and an English one, one ``area`` per district (or the
whole municipality), the level as ``eventCode`` ``JP:evacuation-level`` and the hazard as
``parameter`` ``JP:hazard``. Raising or lowering the level is an Update of the message in
force; lifting (解除) is a Cancel of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
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
) -> Alert:
    moment = (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    expires = format_datetime(moment + timedelta(hours=order.hours))
    place = name_of(order.municipality)
    level = LEVELS[order.level]
    hazard_ja, hazard_en = HAZARDS[order.hazard]
    where_ja = "、".join(d.name for d in order.districts) or f"{place}全域"
    where_en = ", ".join(d.name for d in order.districts) or f"all of {place}"
    areas = _areas(order, place)
    if lift:
        headline_ja = f"【解除】{level.ja}（{hazard_ja}） {place} {where_ja}"
        headline_en = f"[Lifted] {level.en} ({hazard_en}): {where_en}"
        text_ja = f"{place}は、{where_ja}に発令していた{level.ja}を解除しました。"
        text_en = f"{place} has lifted the {level.en.lower()} for {where_en}."
        instruction_ja, instruction_en, responses = None, None, ["AllClear"]
    else:
        where_head = f"{place} {where_ja}" if order.districts else where_ja
        headline_ja = f"【警戒レベル{order.level}】{level.ja}（{hazard_ja}） {where_head}"
        headline_en = f"[Alert level {order.level}] {level.en} ({hazard_en}): {where_en}"
        text_ja = f"{place}は、{hazard_ja}の危険があるため、{where_ja}に{level.ja}を発令しました。"
        text_en = (
            f"{place} has issued an {level.en.lower()} for {where_en} "
            f"because of the danger of {hazard_en}."
        )
        instruction_ja, instruction_en = level.instruction_ja, level.instruction_en
        responses = [level.response]

    def info(
        language: str,
        event: str,
        headline: str,
        text: str,
        instruction: str | None,
        sender_name: str,
    ) -> Info:
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
            sender_name=sender_name,
            headline=headline,
            description=text,
            instruction=instruction,
            parameters=[ValuePair(HAZARD_CODE, order.hazard)],
            areas=list(areas),
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
        infos=[
            info("ja-JP", level.ja, headline_ja, text_ja, instruction_ja, place),
            info("en-US", level.en, headline_en, text_en, instruction_en, place),
        ],
    )


def _areas(order: Order, place: str) -> list[Area]:
    code = with_check_digit(normalize(order.municipality))
    geocode = [ValuePair("JIS X 0402", code)]
    if not order.districts:
        return [Area(area_desc=place, geocodes=geocode)]
    return [
        Area(
            area_desc=f"{place} {d.name}",
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
