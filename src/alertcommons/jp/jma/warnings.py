"""Warnings graded per item: 特別警報 and 大津波警報 are Extreme, 警報 Severe, 注意報 Moderate,
予報 and lifted (解除) ones Minor; and the kind of warning a per-hazard title names."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lxml import etree

from alertcommons.jp.jma.common import SEVERITY_ORDER, Kind, body_of, child_text, is_element, token

# The warning kind a title of the per-hazard VPWW55-61 family names in its last bracket
# (気象警報・注意報（R06）（大雨）, brackets and letters full-width): each kind is its own event,
# so a 土砂災害警報 never replaces the 大雨警報 of the same office. A bracket not listed here
# stands for itself; version brackets (H27, R06) name no kind, and the combined reports
# (VPWW50/53/54) are one kind, "weather".
WARNING_KINDS = {
    "大雨": "rain",
    "土砂": "landslide",
    "土砂災害": "landslide",
    "洪水": "flood",
    "高潮": "surge",
    "暴風": "wind",
    "暴風雪": "wind-snow",
    "波浪": "wave",
    "大雪": "snow",
    "その他注意報": "advisory",
}
_BRACKETS = re.compile(r"\(([^()]+)\)")
_VERSION = re.compile(r"^[HR][0-9]+$")


def kind_key(kind: Kind, title: str) -> str:
    if kind.key != "weather":
        return kind.key
    plain = unicodedata.normalize("NFKC", title)  # full-width brackets and digits to ASCII
    named = [b.strip() for b in _BRACKETS.findall(plain) if not _VERSION.match(b.strip())]
    if not named:
        return kind.key
    return f"{kind.key}-{WARNING_KINDS.get(named[-1], token(named[-1]))}"


def grade(name: str, status: str) -> str | None:
    """The CAP severity of one warning kind as JMA names it, or None if it is not one."""
    if status == "解除" or "解除" in name or name.endswith("なし"):
        return "Minor"
    if "特別警報" in name or "大津波警報" in name:
        return "Extreme"
    if "警報" in name:
        return "Severe"
    if "注意報" in name:
        return "Moderate"
    if "予報" in name:
        return "Minor"
    return None


def by_severity(item: tuple[str, Any]) -> int:
    return SEVERITY_ORDER.index(item[0])


def graded_items(root: etree._Element) -> dict[str, tuple[list[str], list[etree._Element]]]:
    """Body items grouped by their most severe warning kind: names and area holders."""
    body = body_of(root)
    groups: dict[str, tuple[list[str], list[etree._Element]]] = {}
    if body is None:
        return groups
    for item in body.iter():
        if not is_element(item, "Item"):
            continue
        kinds = [k for k in item.iter() if is_element(k, "Kind")]
        grades = []
        for kind in kinds:
            name = child_text(kind, "Name")
            found = grade(name, child_text(kind, "Status"))
            if found is not None:
                grades.append((SEVERITY_ORDER.index(found), name.split("：")[0]))
        holders = [c for c in item if is_element(c, ("Area", "Areas"))]
        if not grades or not holders:
            continue
        worst = min(grades)[0]
        severity = SEVERITY_ORDER[worst]
        names, places = groups.setdefault(severity, ([], []))
        for rank, name in sorted(grades):
            if rank == worst and name not in names:
                names.append(name)
        places.extend(holders)
    return groups
