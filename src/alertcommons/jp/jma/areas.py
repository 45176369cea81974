"""The areas of a report as CAP geocodes: every JMA area code in it, and the
local-government codes (``JIS X 0402``) the JMA codes stand for, so that jurisdictions and
receivers' local-government filters see them."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from alertcommons.cap.model import Area, ValuePair
from alertcommons.jp.codes import with_check_digit
from alertcommons.jp.jma.common import child_text, is_element
from alertcommons.jp.jma_areas import JMA_CITY, places_of
from alertcommons.jp.tsunami_regions import prefectures_of

CODE_TYPES = {
    "気象・地震・火山情報／市町村等": "JMA:city",
    "気象情報／府県予報区・細分区域等": "JMA:forecast",
    "津波予報区": "JMA:tsunami",
    "地震情報／細分区域": "JMA:seismic",
    "地震情報／都道府県等": "JMA:seismic-pref",
    "緊急地震速報／府県予報区": "JMA:eew-pref",
    "緊急地震速報／地方予報区": "JMA:eew-region",
    "火山名": "JMA:volcano",
    "水位観測所": "JMA:river-gauge",
    "指定河川洪水予報／河川": "JMA:river",
}


def code_type(holder: etree._Element) -> str:
    """A holder's code type: its own attribute, else the nearest CodeDefine naming its path."""
    declared = holder.get("codeType")
    if declared is None:
        local = etree.QName(holder).localname
        for ancestor in holder.iterancestors():
            for define in ancestor:
                if not is_element(define, "CodeDefine"):
                    continue
                for type_ in define:
                    xpath = type_.get("xpath", "")
                    if xpath.endswith(f"{local}/Code") or xpath.endswith(f"{local}/Area/Code"):
                        declared = (type_.text or "").strip()
                        break
            if declared is not None:
                break
    if declared is None:
        return "JMA:area"
    return CODE_TYPES.get(declared, f"JMA:{declared}")


def local_government(value_name: str, code: str) -> str | None:
    """The ``JIS X 0402`` code (6 digits) a whole municipality's JMA city code stands for,
    through the table the jurisdiction check uses; None for a municipality merged away (old
    reports name such) or a part of one."""
    if value_name != JMA_CITY or not code.endswith("00"):
        return None
    places = places_of(JMA_CITY, code)
    if not places or len(places[0]) != 5:
        return None
    return with_check_digit(places[0])


def areas_of(holders: Iterable[etree._Element], *, single: bool = True) -> list[Area]:
    """Areas of the given holders; ``single=False`` reads only ``Areas`` lists, skipping a
    lone ``Area`` such as an epicentre, which is not where the alert applies."""
    seen: dict[tuple[str, str], str] = {}
    for holder in holders:
        if not isinstance(holder.tag, str):
            continue
        if is_element(holder, "Areas"):
            members = [a for a in holder if isinstance(a.tag, str)]
        elif single and is_element(holder, "Area"):
            parent = holder.getparent()
            if parent is None or is_element(parent, "Areas"):
                continue  # a member of an Areas holder, read with it
            members = [holder]
        else:
            continue
        value_name = code_type(holder)
        for area in members:
            code, name = child_text(area, "Code"), child_text(area, "Name")
            if code and code.isascii() and code.isdigit():
                kind = value_name
                if kind == "JMA:area":  # undeclared, as in weather warning items
                    kind = {7: "JMA:city", 6: "JMA:forecast"}.get(len(code), kind)
                seen.setdefault((kind, code), name or code)
    if not seen:
        return []
    geocodes = []
    prefectures: set[str] = set()
    for value_name, code in sorted(seen):
        geocodes.append(ValuePair(value_name, code))
        if value_name == "JMA:tsunami":
            prefectures.update(prefectures_of(code))
        local = local_government(value_name, code)
        if local is not None:
            geocodes.append(ValuePair("JIS X 0402", local))
    for prefecture in sorted(prefectures):  # so local-government subscribers are reached
        geocodes.append(ValuePair("JIS X 0402", with_check_digit(prefecture + "000")))
    names = list(dict.fromkeys(seen.values()))
    description = "、".join(names[:20]) + ("ほか" if len(names) > 20 else "")
    return [Area(area_desc=description, geocodes=geocodes)]
