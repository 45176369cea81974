"""JMA area geocodes and the local-government areas they stand for.

Receivers subscribe to JMA area codes (``jma_areas``), so every JMA geocode an alert carries
routes it somewhere. Jurisdiction is granted in local-government codes; this module relates
each JMA code to the prefectures or municipalities it lies in, so that the hub can check a
JMA code against a jurisdiction before it routes on it:

* ``JMA:city`` (市町村等, 7 digits): the municipality of its first five digits; the last two
  name a part of it (``00`` the whole);
* ``JMA:forecast`` (府県予報区・細分区域, 6 digits): the prefecture of its first two digits —
  the shipped data does not say which municipalities a forecast area holds, so only a
  jurisdiction covering the whole prefecture covers it;
* ``JMA:tsunami`` (津波予報区, 3 digits): the prefectures whose coast it is
  (:mod:`alertcommons.jp.tsunami_regions`);
* ``JMA:seismic-pref`` (地震情報／都道府県等, 2 digits): the prefecture of that code;
* ``JMA:eew-pref`` (緊急地震速報／府県予報区, 4 digits ``9PPx``): the prefecture ``PP``
  (Hokkaido's, Tokyo's, Kagoshima's and Okinawa's parts all lie in their prefecture).

Any other JMA kind (seismic areas, volcanoes, rivers …), and a code these tables cannot
place, relates to nothing: only a national issuer may send it.
"""

from __future__ import annotations

from alertcommons.jp.codes import CodeError, normalize, registry
from alertcommons.jp.tsunami_regions import REGION_PREFECTURES

JMA_CITY = "JMA:city"
JMA_FORECAST = "JMA:forecast"
JMA_TSUNAMI = "JMA:tsunami"
JMA_SEISMIC_PREF = "JMA:seismic-pref"
JMA_EEW_PREF = "JMA:eew-pref"


def jma_kind(value_name: str | None) -> str | None:
    """The JMA area kind a geocode's ``valueName`` names, or None if it is not a JMA area.

    The one classifier shared by matching (what routes) and jurisdiction (what is checked),
    so the two cannot disagree on which geocodes are JMA areas."""
    name = (value_name or "").strip()
    return name if name.startswith("JMA") else None


def places_of(kind: str, code: str) -> tuple[str, ...] | None:
    """Canonical local-government codes (2 or 5 digits) a JMA area lies within, or None
    when the hub cannot relate it to any."""
    code = code.strip()
    if not code.isascii() or not code.isdigit():
        return None
    if kind == JMA_CITY and len(code) == 7:
        try:
            place = normalize(code[:5])
        except CodeError:
            return None  # a merged-away municipality: it places nothing
        return (place,)
    if kind == JMA_FORECAST and len(code) == 6 and code[:2] in registry().prefectures:
        return (code[:2],)
    if kind == JMA_SEISMIC_PREF and len(code) == 2 and code in registry().prefectures:
        return (code,)
    if kind == JMA_EEW_PREF and len(code) == 4 and code[0] == "9":
        return (code[1:3],) if code[1:3] in registry().prefectures else None
    if kind == JMA_TSUNAMI and code in REGION_PREFECTURES:
        return REGION_PREFECTURES[code]
    return None
