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
from alertcommons.jp import phrases
from alertcommons.jp.codes import name_of, normalize, with_check_digit
from alertcommons.jp.evacuation import JST

SHELTER_CODE = "JP:shelter"
HQ_CODE = "JP:disaster-hq"

# The states a shelter can be in, with their event names. The sentences are in the phrase
# table (jp/phrases.py), each written whole: a verb spliced after 「を」 once gave
# 「…を満員になりました」 (full is 「…が満員になりました」).
SHELTER_STATES = {
    "open": ("避難所開設", "Shelter open"),
    "full": ("避難所満員", "Shelter full"),
    "closed": ("避難所閉鎖", "Shelter closed"),
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
    languages: tuple[str, ...] | None = None,  # default: every language of the phrase table
) -> Alert:
    moment = _moment(now)
    sent = format_datetime(moment)
    place = name_of(shelter.municipality)
    closing = shelter.state == "closed"

    def texts(language: str) -> tuple[str, str, str]:
        """(event, headline, description) from the phrase table."""
        event = phrases.phrase("shelter", f"state.{shelter.state}", language)
        kanji = phrases.kanji_script(language)
        name = (
            shelter.name if kanji else shelter.name_en or phrases.local_name(shelter.name, language)
        )
        values = {
            "place": phrases.place_name(shelter.municipality, language),
            "name": name,
            "address": shelter.address,
        }
        text = phrases.phrase("shelter", f"text.{shelter.state}", language, **values)
        safe = phrases.separator(language).join(
            phrases.phrase("evacuation", f"hazard.{h}", language) for h in shelter.hazards
        )
        if shelter.state == "open" and safe:
            text += phrases.phrase("shelter", "safe_for", language, hazards=safe)
        if shelter.state == "full":
            text += phrases.phrase("shelter", "go_elsewhere", language)
        headline = phrases.phrase("shelter", "headline", language, event=event, name=name)
        return event, headline, text

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

    def area(language: str) -> Area:
        name = shelter.name if phrases.kanji_script(language) else shelter.name_en or shelter.name
        return Area(
            area_desc=f"{phrases.place_name(shelter.municipality, language)} {name}",
            circles=[f"{shelter.lat:.6f},{shelter.lon:.6f} 0.1"],
            geocodes=[ValuePair("JIS X 0402", with_check_digit(shelter.municipality))],
        )

    def info(language: str) -> Info:
        event, headline, text = texts(language)
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
            areas=[area(language)],
        )

    return Alert(
        identifier=f"shelter-{shelter.municipality}-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
        sender=sender,
        sent=sent,
        status=shelter.status,
        msg_type="Cancel" if closing else ("Update" if replaces else "Alert"),
        scope="Public",
        references=_references(sender, replaces),
        infos=[info(language) for language in phrases.wanted(languages)],
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
    languages: tuple[str, ...] | None = None,
) -> Alert:
    moment = _moment(now)
    sent = format_datetime(moment)
    place = name_of(municipality)
    state = "established" if established else "dissolved"

    def texts(language: str) -> tuple[str, str, str]:
        name = phrases.phrase("headquarters", f"kind.{kind}", language)
        values = {"kind": name, "kind_cap": name[:1].upper() + name[1:]}
        event = phrases.phrase("headquarters", f"event.{state}", language, **values)
        town = phrases.place_name(municipality, language)
        text = phrases.phrase("headquarters", f"text.{state}", language, place=town, **values)
        return event, text, f"{town} {event}"

    def area(language: str) -> Area:
        return Area(
            area_desc=phrases.place_name(municipality, language),
            geocodes=[ValuePair("JIS X 0402", with_check_digit(normalize(municipality)))],
        )

    def info(language: str) -> Info:
        event, text, headline = texts(language)
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
            headline=headline,
            description=text,
            areas=[area(language)],
        )

    return Alert(
        identifier=f"hq-{municipality}-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
        sender=sender,
        sent=sent,
        status=status,
        msg_type="Update" if replaces and established else ("Cancel" if replaces else "Alert"),
        scope="Public",
        references=_references(sender, replaces),
        infos=[info(language) for language in phrases.wanted(languages)],
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
