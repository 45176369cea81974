"""Shelters (避難所) and the disaster headquarters (災害対策本部) of a municipality, as CAP.

A shelter message carries its facts as parameters (``JP:shelter-id``, ``-name``, ``-state``,
``-capacity``, ``-address``, ``-hazards``, ``-name-en``) and its place as a small circle plus
the municipality's code, so map-based and code-based receivers both find it. A change of state
(open → full) is an Update of the shelter's message in force; closing is a Cancel of it.
The headquarters status works the same way: established is an Alert (or an Update when the
kind changes), dissolved a Cancel.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.jp.codes import name_of, normalize, with_check_digit
from alertcommons.jp.evacuation import HAZARDS, JST

SHELTER_CODE = "JP:shelter"
HQ_CODE = "JP:disaster-hq"

SHELTER_STATES = {
    "open": ("避難所開設", "Shelter open", "開設しました", "is open"),
    "full": ("避難所満員", "Shelter full", "満員になりました", "is full"),
    "closed": ("避難所閉鎖", "Shelter closed", "閉鎖しました", "has closed"),
}
HQ_KINDS = {
    "disaster": ("災害対策本部", "disaster headquarters"),
    "alert": ("災害警戒本部", "disaster alert headquarters"),
}


@dataclass(frozen=True, slots=True)
class Shelter:
    municipality: str  # canonical 5-digit code
    key: str  # the municipality's own id for the shelter, stable across messages
    name: str
    address: str
    lat: float
    lon: float
    state: str
    capacity: int | None = None
    hazards: tuple[str, ...] = ()
    name_en: str | None = None
    status: str = "Actual"


def _moment(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)


def _references(sender: str, replaces: tuple[str, str] | None) -> str | None:
    return f"{sender},{replaces[0]},{replaces[1]}" if replaces else None


def build_shelter(
    shelter: Shelter,
    sender: str,
    *,
    replaces: tuple[str, str] | None = None,
    now: datetime | None = None,
    hours: float = 72.0,
) -> Alert:
    moment = _moment(now)
    sent = format_datetime(moment)
    place = name_of(shelter.municipality)
    event_ja, event_en, verb_ja, verb_en = SHELTER_STATES[shelter.state]
    closing = shelter.state == "closed"
    safe_ja = "・".join(HAZARDS[h][0] for h in shelter.hazards)
    safe_en = ", ".join(HAZARDS[h][1] for h in shelter.hazards)
    name_en = shelter.name_en or shelter.name
    text_ja = f"{place}は、{shelter.name}（{shelter.address}）を{verb_ja}。"
    if shelter.state == "open" and safe_ja:
        text_ja += f"対象災害：{safe_ja}。"
    if shelter.state == "full":
        text_ja += "他の避難所に避難してください。"
    text_en = f"{place}: shelter {name_en} ({shelter.address}) {verb_en}."
    if shelter.state == "open" and safe_en:
        text_en += f" Safe for: {safe_en}."
    if shelter.state == "full":
        text_en += " Please go to another shelter."
    parameters = [
        ValuePair("JP:shelter-id", shelter.key),
        ValuePair("JP:shelter-name", shelter.name),
        ValuePair("JP:shelter-state", shelter.state),
        ValuePair("JP:shelter-address", shelter.address),
    ]
    if shelter.capacity is not None:
        parameters.append(ValuePair("JP:shelter-capacity", str(shelter.capacity)))
    if shelter.hazards:
        parameters.append(ValuePair("JP:shelter-hazards", ",".join(shelter.hazards)))
    if shelter.name_en:
        parameters.append(ValuePair("JP:shelter-name-en", shelter.name_en))
    area = Area(
        area_desc=f"{place} {shelter.name}",
        circles=[f"{shelter.lat:.6f},{shelter.lon:.6f} 0.1"],
        geocodes=[ValuePair("JIS X 0402", with_check_digit(shelter.municipality))],
    )

    def info(language: str, event: str, headline: str, text: str) -> Info:
        return Info(
            language=language,
            categories=["Safety"],
            event=event,
            response_types=["None"] if closing else ["Evacuate"],
            urgency="Past" if closing else "Expected",
            severity="Minor",
            certainty="Observed",
            event_codes=[ValuePair(SHELTER_CODE, shelter.state)],
            effective=sent,
            expires=format_datetime(moment + timedelta(hours=hours)),
            sender_name=place,
            headline=headline,
            description=text,
            parameters=list(parameters),
            areas=[area],
        )

    return Alert(
        identifier=f"shelter-{shelter.municipality}-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
        sender=sender,
        sent=sent,
        status=shelter.status,
        msg_type="Cancel" if closing else ("Update" if replaces else "Alert"),
        scope="Public",
        references=_references(sender, replaces),
        infos=[
            info("ja-JP", event_ja, f"{event_ja} {shelter.name}", text_ja),
            info("en-US", event_en, f"{event_en}: {name_en}", text_en),
        ],
    )


def build_headquarters(
    municipality: str,
    kind: str,
    established: bool,
    sender: str,
    *,
    replaces: tuple[str, str] | None = None,
    status: str = "Actual",
    now: datetime | None = None,
    hours: float = 24.0 * 14,
) -> Alert:
    moment = _moment(now)
    sent = format_datetime(moment)
    place = name_of(municipality)
    name_ja, name_en = HQ_KINDS[kind]
    if established:
        events = (f"{name_ja}設置", f"{name_en.capitalize()} established")
        texts = (f"{place}は{name_ja}を設置しました。", f"{place} has set up its {name_en}.")
    else:
        events = (f"{name_ja}廃止", f"{name_en.capitalize()} dissolved")
        texts = (f"{place}は{name_ja}を廃止しました。", f"{place} has dissolved its {name_en}.")
    area = Area(
        area_desc=place,
        geocodes=[ValuePair("JIS X 0402", with_check_digit(normalize(municipality)))],
    )

    def info(language: str, event: str, text: str) -> Info:
        return Info(
            language=language,
            categories=["Safety"],
            event=event,
            urgency="Unknown" if established else "Past",
            severity="Minor",
            certainty="Observed",
            event_codes=[ValuePair(HQ_CODE, kind if established else "dissolved")],
            effective=sent,
            expires=format_datetime(moment + timedelta(hours=hours)),
            sender_name=place,
            headline=f"{place} {event}",
            description=text,
            areas=[area],
        )

    return Alert(
        identifier=f"hq-{municipality}-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
        sender=sender,
        sent=sent,
        status=status,
        msg_type="Update" if replaces and established else ("Cancel" if replaces else "Alert"),
        scope="Public",
        references=_references(sender, replaces),
        infos=[info("ja-JP", events[0], texts[0]), info("en-US", events[1], texts[1])],
    )


def _pairs(document: dict[str, Any], key: str) -> dict[str, str]:
    info = (document.get("info") or [{}])[0]
    return {str(p.get("valueName")): str(p.get("value")) for p in info.get(key, [])}


def shelter_of(document: dict[str, Any]) -> dict[str, Any] | None:
    """A shelter's current facts from its stored message (CAP JSON), or None if not one."""
    codes = _pairs(document, "eventCode")
    if SHELTER_CODE not in codes:
        return None
    facts = _pairs(document, "parameter")
    info = document["info"][0]
    circle = (info.get("area") or [{}])[0].get("circle") or ["0,0 0"]
    lat, lon = (float(x) for x in circle[0].split()[0].split(","))
    capacity = facts.get("JP:shelter-capacity")
    hazards = facts.get("JP:shelter-hazards")
    return {
        "id": facts.get("JP:shelter-id"),
        "name": facts.get("JP:shelter-name"),
        "name_en": facts.get("JP:shelter-name-en"),
        "address": facts.get("JP:shelter-address"),
        "lat": lat,
        "lon": lon,
        "capacity": int(capacity) if capacity and capacity.isdigit() else None,
        "hazards": hazards.split(",") if hazards else [],
        "state": codes[SHELTER_CODE],
    }


def headquarters_of(document: dict[str, Any]) -> str | None:
    kind = _pairs(document, "eventCode").get(HQ_CODE)
    return kind if kind in HQ_KINDS else None
