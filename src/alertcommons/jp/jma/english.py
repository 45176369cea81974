"""The English ``info`` beside each Japanese one, from phrase tables kept as data.

A warning's name is looked up whole (大雨特別警報 → Heavy Rain Emergency Warning), else
composed from its hazard and its level (暴風 + 警報 → Storm Warning); names joined by ・ are
translated one by one. A name the tables do not know falls back to the report kind's English
name, so an English info never shows an untranslated warning name. Place names stay as the
JMA writes them (the shipped registry has no romanized names of municipalities). The
JMA's fixed comment phrases (固定付加文) are translated by code; a comment holding a phrase
not in the table is kept in Japanese rather than dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from alertcommons.cap.model import Area, Info
from alertcommons.jp.jma import seismic
from alertcommons.jp.jma.common import Kind

SENDER_NAME = "Japan Meteorological Agency"

# Each report kind's English name (Kind.key): every kind the converter handles has one, and
# a test fails on a kind without.
KIND_NAMES: dict[str, str] = {
    "weather": "Weather Warnings and Advisories",
    "tsunami": "Tsunami Warnings and Advisories",
    "tsunami-info": "Tsunami Information",
    "tsunami-offshore": "Offshore Tsunami Observations",
    "eew": "Earthquake Early Warning",
    "eew-forecast": "Earthquake Early Warning (forecast)",
    "intensity": "Seismic Intensity Information",
    "hypocentre": "Earthquake Hypocentre Information",
    "earthquake": "Earthquake Information",
    "long-period": "Long-Period Ground Motion Observations",
    "volcano": "Volcanic Warning",
    "eruption": "Eruption Bulletin",
    "landslide": "Sediment Disaster Alert",
    "flood": "Flood Forecast for a Designated River",
    "tornado": "Tornado Advisory",
    "record-rain": "Record Short-Time Heavy Rain Information",
    "megaquake": "Earthquake Extra Information",
}

# Whole phrases: report titles, event names and names that do not compose.
PHRASES: dict[str, str] = {
    "緊急地震速報（警報）": "Earthquake Early Warning",
    "緊急地震速報（予報）": "Earthquake Early Warning (forecast)",
    "緊急地震速報（地震動予報）": "Earthquake Early Warning (ground motion forecast)",
    "震度速報": "Seismic Intensity Information",
    "震源に関する情報": "Earthquake Hypocentre Information",
    "地震情報": "Earthquake Information",
    "長周期地震動に関する観測情報": "Long-Period Ground Motion Observations",
    "津波情報": "Tsunami Information",
    "沖合の津波観測に関する情報": "Offshore Tsunami Observations",
    "噴火速報": "Eruption Bulletin",
    "土砂災害警戒情報": "Sediment Disaster Alert",
    "竜巻注意情報": "Tornado Advisory",
    "記録的短時間大雨情報": "Record Short-Time Heavy Rain Information",
    "大津波警報": "Major Tsunami Warning",
    "津波警報": "Tsunami Warning",
    "津波注意報": "Tsunami Advisory",
    "津波予報（若干の海面変動）": "Tsunami Forecast (slight sea-level change)",
    "津波予報": "Tsunami Forecast",
    "警報解除": "Warning lifted",
    "注意報解除": "Advisory lifted",
    "津波注意報解除": "Tsunami Advisory lifted",
    "津波警報解除": "Tsunami Warning lifted",
    "大津波警報解除": "Major Tsunami Warning lifted",
    "特別警報解除": "Emergency Warning lifted",
    "発表警報・注意報はなし": "No warnings or advisories in force",
    "津波なし": "No tsunami",
    "気象警報・注意報": "Weather Warnings and Advisories",
    "気象特別警報・警報・注意報": "Weather Emergency Warnings, Warnings and Advisories",
    "噴火警報・予報": "Volcanic Warnings and Forecasts",
    "噴火警報（居住地域）": "Volcanic Warning (residential areas)",
    "噴火警報（火口周辺）": "Volcanic Warning (crater area)",
    "噴火警報": "Volcanic Warning",
    "噴火予報": "Volcanic Forecast",
    "震源・震度情報": "Earthquake and Seismic Intensity Information",
    "遠地地震に関する情報": "Distant Earthquake Information",
    "津波観測に関する情報": "Tsunami Observations",
    "各地の満潮時刻・津波到達予想時刻に関する情報": "High Tide Times and Expected Tsunami Arrival",
    "警戒・注意事項時系列情報": "Timeline of Warnings and Advisories",
    "気象防災速報（竜巻注意）": "Weather Disaster Bulletin (tornado advisory)",
    "気象防災速報（竜巻目撃）": "Weather Disaster Bulletin (tornado sighted)",
    "氾濫発生情報（氾濫水の予報）": "Flooding Occurred (forecast of flood water)",
    "火口周辺警報": "Volcanic Warning (crater area)",
    "指定河川洪水予報": "Flood Forecast for a Designated River",
    "氾濫発生情報": "Flooding Occurred",
    "氾濫危険情報": "Flood Danger Information",
    "氾濫警戒情報": "Flood Warning Information",
    "氾濫注意情報": "Flood Caution Information",
    "氾濫注意情報解除": "Flood Caution lifted",
    "洪水警報": "Flood Warning",
    "洪水注意報": "Flood Advisory",
    "南海トラフ地震臨時情報": "Nankai Trough Earthquake Extra Information",
    "南海トラフ地震関連解説情報": "Nankai Trough Earthquake Commentary",
    "北海道・三陸沖後発地震注意情報": "Hokkaido and Sanriku Subsequent Earthquake Advisory",
    "巨大地震警戒": "megaquake warning",
    "巨大地震注意": "megaquake advisory",
    "調査中": "under investigation",
    "調査終了": "investigation ended",
}

# Hazards and levels that compose: 暴風 + 警報 → Storm Warning.
HAZARDS: dict[str, str] = {
    "大雨": "Heavy Rain",
    "大雨（土砂災害）": "Heavy Rain (landslides)",
    "大雨（浸水害）": "Heavy Rain (inundation)",
    "大雨（土砂災害、浸水害）": "Heavy Rain (landslides, inundation)",
    "土砂災害": "Landslide",
    "洪水": "Flood",
    "暴風": "Storm",
    "暴風雪": "Snowstorm",
    "大雪": "Heavy Snow",
    "波浪": "High Wave",
    "高潮": "Storm Surge",
    "雷": "Thunderstorm",
    "融雪": "Snowmelt",
    "濃霧": "Dense Fog",
    "乾燥": "Dry Air",
    "なだれ": "Avalanche",
    "低温": "Low Temperature",
    "霜": "Frost",
    "着氷": "Icing",
    "着雪": "Snow Accretion",
    "強風": "Gale",
    "風雪": "Wind and Snow",
    "津波": "Tsunami",
    "大津波": "Major Tsunami",
    "噴火": "Volcanic",
}
LEVELS: dict[str, str] = {
    "特別警報": "Emergency Warning",
    "危険警報": "Danger Warning",
    "警報": "Warning",
    "注意報": "Advisory",
}
_LEVEL_NUMBER = re.compile(r"^レベル(\d+)")
_BRACKETED = re.compile(r"^(.+?)（(.+)）$")

# The JMA's fixed comment phrases (固定付加文) by code, as the earthquake and tsunami
# reports carry them.
COMMENTS: dict[str, str] = {
    "0101": "Tsunamis are coming in; evacuate immediately.",
    "0104": "Sea-level changes may continue for a while; take care when swimming or fishing.",
    "0107": "No tsunami warning or advisory is in force on any coast now.",
    "0109": "A tsunami coinciding with high tide will be higher: be on strict guard.",
    "0110": "A tsunami coinciding with high tide will be higher: take full care.",
    "0111": "Larger tsunamis than those observed may have arrived in some places.",
    "0112": "Tsunamis may grow higher from now on.",
    "0114": "The highest wave may come hours after the first change of sea level.",
    "0115": "These are offshore observations; tsunamis will be higher at the coast.",
    "0121": "<Major Tsunami Warning> Huge tsunamis will cause devastating damage. Evacuate"
    " coastal areas and riversides at once to high ground or evacuation buildings, and stay"
    " there until the warning is lifted: tsunamis come again and again.",
    "0122": "<Tsunami Warning> Tsunamis will cause damage. Evacuate coastal areas and"
    " riversides at once to high ground or evacuation buildings, and stay there until the"
    " warning is lifted: tsunamis come again and again.",
    "0123": "<Tsunami Advisory> The sea and the shore are dangerous. Get out of the water and"
    " away from the shore at once, and stay away until the advisory is lifted.",
    "0124": "<Tsunami Forecast> A slight change of sea level is expected; no damage is expected.",
    "0131": "People on coasts and riversides under a warning: evacuate at once to high"
    " ground or evacuation buildings. Tsunamis may arrive well after the expected time;"
    " stay safe until the warning is lifted, whatever height has been observed.",
    "0132": "Tsunamis may be higher than expected in some places.",
    "0141": "A tsunami of the scale of the Great East Japan Earthquake is coming.",
    "0143": "High tsunamis observed offshore: the warnings have been raised.",
    "0149": "Evacuate immediately.",
    "0201": "Be on guard against strong shaking.",
    "0203": "There is no risk of a tsunami from this earthquake.",
    "0210": "Marked * are intensity stations not run by the JMA.",
    "0211": "Tsunami warnings or advisories are in force.",
    "0212": "Slight sea-level changes may occur on the coasts of Japan, without damage.",
    "0213": "Sea-level changes may continue for a while; take care when swimming or fishing.",
    "0215": "There is no risk of a tsunami from this earthquake.",
    "0217": "Watch for further information.",
    "0221": "A tsunami may have been generated over a wide area of the Pacific.",
    "0228": "An earthquake of this size in a shallow sea area can generate a tsunami.",
    "0229": "Whether a tsunami will reach Japan is being investigated.",
    "0241": "An earthquake early warning has been issued for this earthquake.",
    "0256": "The hypocentre is corrected.",
    "0262": "Marked * are intensity stations not run by the JMA.",
}
CONDITIONS: dict[str, str] = {
    "既に主要動到達と推測": "the main shaking has probably arrived already",
}


def phrase(text: str) -> str | None:
    """One JMA name in English, or None if the tables do not know it."""
    original = text.strip()
    if original in PHRASES:
        return PHRASES[original]
    level = _LEVEL_NUMBER.match(unicodedata.normalize("NFKC", original))
    if level:  # レベル４大雨危険警報 …: the level, then the name
        rest = phrase(unicodedata.normalize("NFKC", original)[level.end() :])
        return f"Level {level[1]} {rest}" if rest else None
    for suffix, english in LEVELS.items():
        if original.endswith(suffix):
            hazard = original[: -len(suffix)]
            if hazard in HAZARDS:
                return f"{HAZARDS[hazard]} {english}"
    bracketed = _BRACKETED.match(original)
    if bracketed:  # 噴火警報（火口周辺） …: the name in English, the rest as written
        inner = phrase(bracketed[1])
        return f"{inner} ({phrase(bracketed[2]) or bracketed[2]})" if inner else None
    if original.endswith("解除") and len(original) > 2:
        lifted = phrase(original[: -len("解除")])
        return f"{lifted} lifted" if lifted else None
    return None


def _joined(text: str) -> str | None:
    whole = phrase(text)
    if whole is not None:
        return whole
    first, *rest = text.split("・")
    # 大雨警報・注意報: a bare level after a name is that hazard's other level.
    parts = [phrase(first)] + [BARE_LEVELS.get(part) or phrase(part) for part in rest]
    return ", ".join(p for p in parts if p) if all(parts) else None


BARE_LEVELS = {"警報": "Warnings", "注意報": "Advisories"}
# What a place named before a report's name ends with (奈良県, 宗谷地方, ○○川上流 …).
PLACE_ENDINGS = ("都", "道", "府", "県", "地方", "市", "町", "村", "区", "川", "上流", "下流")


def name(text: str) -> str | None:
    """A name as the JMA writes it in English: names joined by ・, a name after a place
    (奈良県気象警報・注意報 → Weather Warnings and Advisories (奈良県)), 火山名 and a volcano,
    and "name：state"; None if any part is unknown."""
    original = " ".join(text.replace("\u3000", " ").split())
    volcano = _VOLCANO.match(original)
    if volcano:
        rest = name(volcano[2])
        return f"{rest} ({volcano[1]})" if rest else None
    found = _joined(original)
    if found is not None:
        return found
    if "：" in original:
        head, _, state = original.partition("：")
        first, second = name(head), name(state)
        return f"{first}: {second}" if first and second else None
    for start in range(1, len(original)):
        place = original[:start].strip()
        if not place.endswith(PLACE_ENDINGS):
            continue
        found = _joined(original[start:])
        if found is not None:
            return f"{found} ({place})"
    return None


_VOLCANO = re.compile(r"^火山名 (\S+(?:（[^）]*）)*(?:[^ ]*)) (.+)$")


def names(text: str, fallback: str) -> str:
    """A name in English; the fallback if the tables do not know it."""
    return name(text) or fallback


def comment(codes: str, text: str) -> str:
    """A comment of one or more fixed phrases in English; in Japanese if any is unknown."""
    known = [COMMENTS.get(code) for code in codes.split()]
    if known and all(known):
        return "\n".join(k for k in known if k)
    return text


def translate(kind: Kind, info: Info, found: seismic.Seismic | None) -> Info:
    """The English twin of a Japanese ``info``: same grading, areas and parameters."""
    kind_name = KIND_NAMES[kind.key]
    event = names(info.event or "", kind_name)
    headline = names(info.headline or "", kind_name)
    if found is not None:
        description = describe_seismic(found, kind_name)
        headline = _seismic_headline(found, kind_name)
    elif event != kind_name:
        description = f"{event}.\nAreas: {_areas_text(info)}"
    else:
        description = f"{kind_name}.\nAreas: {_areas_text(info)}"
    return replace(
        info,
        language="en-US",
        event=event[:256],
        headline=headline[:1000],
        description=description,
        sender_name=SENDER_NAME,
        categories=list(info.categories),
        response_types=list(info.response_types),
        event_codes=list(info.event_codes),
        parameters=list(info.parameters),
        areas=_twin_areas(info),
    )


# Past this many geocodes the English twin names its areas without repeating the codes: a
# great quake names a thousand municipalities, and the codes twice would double an alert
# that must stay under the hub's size limit. Routing reads every info's codes, so the
# alert reaches the same receivers; the Japanese info beside it holds the codes.
TWIN_CODES_LIMIT = 200


def _twin_areas(info: Info) -> list[Area]:
    if sum(len(area.geocodes) for area in info.areas) <= TWIN_CODES_LIMIT:
        return [replace(area, geocodes=list(area.geocodes)) for area in info.areas]
    return [Area(area_desc=area.area_desc) for area in info.areas]


def _areas_text(info: Info) -> str:
    text = " / ".join(area.area_desc or "" for area in info.areas if area.area_desc)
    return text or "not given"


def _seismic_headline(found: seismic.Seismic, kind_name: str) -> str:
    parts = [kind_name]
    quake = found.quake
    if quake is not None and quake.epicentre:
        parts.append(f"epicentre {quake.epicentre}")
    if quake is not None and quake.magnitude:
        parts.append(f"M{quake.magnitude}")
    if found.top is not None:
        parts.append(f"maximum {found.scale.label_en(found.top)}")
    return ", ".join(parts)


def describe_seismic(found: seismic.Seismic, kind_name: str) -> str:
    lines = [f"{kind_name}."]
    quake = found.quake
    if quake is not None:
        if quake.origin is not None:
            at = quake.origin.astimezone(seismic.JST)
            lines.append(f"Origin time: {at:%Y-%m-%d %H:%M} JST")
        if quake.epicentre:
            where = f" ({seismic.position_en(quake)})" if quake.latitude is not None else ""
            lines.append(f"Epicentre: {quake.epicentre}{where}")
        if quake.shallow:
            lines.append("Depth: very shallow")
        elif quake.depth_km is not None:
            lines.append(f"Depth: about {quake.depth_km} km")
        if quake.magnitude:
            lines.append(f"Magnitude: {quake.magnitude}")
        else:
            over = re.search(r"M(\d+)を超える", quake.magnitude_ja)
            lines.append(f"Magnitude: over {over[1]}" if over else "Magnitude: unknown")
    if found.top is not None:
        lines.append(f"Maximum {found.scale.label_en(found.top)}")
    for level, places in seismic.names_by_level(found):
        label = found.scale.label_en(level)
        lines.append(f"{label[0].upper()}{label[1:]}: {', '.join(places)}")
    lines.extend(CONDITIONS.get(condition, condition) for condition in found.conditions)
    lines.extend(comment(code, text) for code, text in found.comments)
    return "\n".join(lines)
