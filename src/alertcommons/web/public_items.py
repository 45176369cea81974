"""What a resident reads of one alert, beyond its text: what kind of badge it wears (an
evacuation level in its official colour, a shelter's state and capacity, 解除 for a lift, else
its severity), the orders it holds, place names in the reader's script, and what its map draws.

Maps draw a whole municipality or prefecture as its outline (fetched from ``/geo/…``), an
issuer's polygon or circle as drawn, and a shelter as a marker: never a municipality as a dot
at its centre (a prefecture's mean centre can sit in the sea or the next prefecture).
"""

from __future__ import annotations

import contextlib
from typing import Any

from alertcommons.cap.values import CapValueError, parse_circle, parse_polygon
from alertcommons.geo.boundaries import boundaries
from alertcommons.jp import evacuation, phrases, shelters
from alertcommons.jp.codes import CodeError, normalize, registry
from alertcommons.jp.kinds import is_lift
from alertcommons.jp.romaji import place as romaji

from .render import shelter_words

# The language of the phrase table a page in ``lang`` reads orders in.
_TEXT_LANGUAGE = {"ja": phrases.JA, "en": phrases.EN}


def place_label(code: str, lang: str) -> str:
    """A canonical code's name: 東京都千代田区 in Japanese, Chiyoda-ku, Tokyo in English
    (romaji from the registry's kana, never a hand list)."""
    reg = registry()
    if len(code) == 2:
        prefecture = reg.prefectures[code]
        return prefecture.name if lang == "ja" else (prefecture.name_en or prefecture.name)
    if lang != "ja":
        return romaji(code)
    town = reg.municipalities[code]
    return f"{reg.prefectures[town.prefecture].name}{town.name}"


def facts(document: dict[str, Any]) -> dict[str, Any]:
    """The alert's kind for its badge: ``level`` (highest evacuation level in force),
    ``shelter`` (its state and capacity), ``lift`` (a Cancel that lifts an order)."""
    orders = evacuation.orders_of(document)
    shelter = shelters.shelter_of(document)
    return {
        "level": max((o.level for o in orders), default=None),
        "orders": orders,
        "shelter": shelter,
        "lift": document.get("msgType") == "Cancel" and is_lift(document),
    }


def ending_of(cancel: dict[str, Any] | None) -> str | None:
    """What a Cancel (CAP JSON) did, for the banner of the page it ended: ``lifted`` (an
    order lifted), ``closed`` (a shelter closed), ``dissolved`` (a headquarters dissolved),
    ``cancelled`` (a message withdrawn as wrong); None when there is no Cancel."""
    if cancel is None:
        return None
    if is_lift(cancel):
        return "lifted"
    shelter = shelters.shelter_of(cancel)
    if shelter is not None and shelter["state"] == "closed":
        return "closed"
    for info in (cancel.get("info") or [])[:1]:
        for pair in info.get("eventCode") or []:
            if pair.get("valueName") == shelters.HQ_CODE and pair.get("value") == "dissolved":
                return "dissolved"
    return "cancelled"


def order_lines(document: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each order in force, for the alert page: where (a district, or the whole
    municipality), its level and its hazard, in the page's language."""
    language = _TEXT_LANGUAGE.get(lang, phrases.EN)
    town = _municipality_of(document)
    lines = []
    for order in evacuation.orders_of(document):
        if order.district is not None:
            where = phrases.local_name(order.district.name, language)
        elif town is not None:
            where = phrases.phrase(
                "evacuation", "where.all", language, place=phrases.place_name(town, language)
            )
        else:
            where = ""
        hazard_key = f"hazard.{order.hazard}"
        hazard = (
            phrases.phrase("evacuation", hazard_key, language)
            if hazard_key in phrases.PHRASES["evacuation"]
            else order.hazard
        )
        lines.append({"where": where, "level": order.level, "hazard": hazard})
    return lines


def _municipality_of(document: dict[str, Any]) -> str | None:
    for code in _geocodes(document):
        if len(code) == 5:
            return code
    return None


def _geocodes(document: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for info in (document.get("info") or [])[:1]:
        for area in info.get("area") or []:
            found += [c for c in _area_codes(area) if c not in found]
    return found


def _area_codes(area: dict[str, Any]) -> list[str]:
    codes = []
    for pair in area.get("geocode") or []:
        with contextlib.suppress(CodeError, ValueError):
            codes.append(normalize(str(pair.get("value") or "")))
    return codes


def map_items(
    document: dict[str, Any], codes: list[str], label: str | None, lang: str
) -> list[dict[str, Any]]:
    """What the alert's map draws. An area with a polygon or circle is drawn as that shape;
    an area with codes only is the whole municipality or prefecture: its outline. ``codes``
    (the alert's stored area codes) stand in when its areas name nothing drawable."""
    shown = facts(document)
    shelter = shown["shelter"]
    if shelter is not None:
        state = shelter["state"]
        name = shelter["name"] if lang == "ja" else shelter.get("name_en") or shelter["name"]
        return [
            {
                "marker": [shelter["lat"], shelter["lon"]],
                "state": state,
                "label": f"{name} ({shelter_words(state, lang)})",
            }
        ]
    level = shown["level"]
    items: list[dict[str, Any]] = []
    # A whole municipality's outline, at the highest level of its whole-area orders; and
    # municipalities around a district named without a shape, shown dashed as context.
    wholes: dict[str, int | None] = {}
    around: list[str] = []
    infos = document.get("info") or []
    first = str(infos[0].get("language") or "") if infos else ""
    # One language's infos: a message holding several levels has an info per level.
    for info in (i for i in infos if str(i.get("language") or "") == first):
        info_level = _level_of_info(info) or level
        districts = _district_marks(info)
        for number, area in enumerate(info.get("area") or []):
            drawn = _shapes(area, label, info_level)
            items += drawn
            if drawn:
                continue
            for code in _area_codes(area):
                if number < len(districts) and districts[number]:
                    around += [] if code in around else [code]
                else:
                    wholes[code] = max(wholes.get(code) or 0, info_level or 0) or None
    if not items and not wholes and not around:
        wholes = {c: level for c in codes if len(c) in (2, 5)}
    items += [_outline(code, label, whole, lang) for code, whole in wholes.items()]
    items += [
        {**_outline(code, label, None, lang), "context": True}
        for code in around
        if code not in wholes
    ]
    return items


def _district_marks(info: dict[str, Any]) -> list[bool]:
    """For each area of an evacuation info, whether it is a district (its ``JP:order``
    names one) rather than the whole municipality; empty for other messages."""
    marks = [
        str(p.get("value") or "")
        for p in info.get("parameter") or []
        if p.get("valueName") == evacuation.ORDER_CODE
    ]
    return [bool(mark.partition(" ")[2]) for mark in marks]


def _level_of_info(info: dict[str, Any]) -> int | None:
    return evacuation.level_of({"info": [info]})


def _shapes(area: dict[str, Any], label: str | None, level: int | None) -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = []
    for polygon in area.get("polygon") or []:
        with contextlib.suppress(CapValueError):
            points = parse_polygon(polygon)
            shapes.append(
                {"polygon": [[p.lat, p.lon] for p in points], "label": label, "level": level}
            )
    for circle in area.get("circle") or []:
        with contextlib.suppress(CapValueError):
            found = parse_circle(str(circle).strip())
            shapes.append(
                {
                    "circle": [found.center.lat, found.center.lon],
                    "km": found.radius_km,
                    "label": label,
                }
            )
    return shapes


def _outline(code: str, label: str | None, level: int | None, lang: str) -> dict[str, Any]:
    """An outline to fetch, or, for a code newer than the shipped outlines, its centre."""
    text = label or place_label(code, lang)
    if boundaries().outline(code) is not None:
        return {"outline": code, "label": text, "level": level}
    town = registry().municipalities.get(code)
    return {"lat": town.lat, "lon": town.lon, "label": text} if town else {"label": text}
