"""JMA disaster-prevention XML (気象庁防災情報XML) → CAP 1.2, in the Japan profile.

Reports people must act on (warnings, tsunami, earthquake early warnings, seismic and volcanic
information, landslide alerts, river flood forecasts, …) become one CAP alert each; forecasts,
statistics and other reports are skipped with a reason. Every JMA area code in the report
travels as a geocode (``JMA:city``, ``JMA:forecast``, ``JMA:tsunami``, ``JMA:seismic``, …);
a municipality (7-digit city code) also travels as its local-government code
(``JIS X 0402``), which is what jurisdictions and most receivers' filters use.

Status: 通常 → Actual, 訓練 → Exercise, 試験 → Test. InfoType: 発表 → Alert, 訂正 → Update,
取消 → Cancel; an update or cancellation references the event's alert identifier
(``jma.<kind>.<event>``): the hub resolves it to that event's alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.cap.xmlsafe import ReadLimits, UnsafeXMLError, parse_xml
from alertcommons.errors import AlertCommonsError
from alertcommons.jp.codes import CodeError, normalize, with_check_digit

SENDER = "jma.go.jp"
CONTROL = "{http://xml.kishou.go.jp/jmaxml1/}"
HEAD = "{http://xml.kishou.go.jp/jmaxml1/informationBasis1/}"
JMA_LIMITS = ReadLimits(max_bytes=8 * 1024 * 1024, max_depth=64)

STATUS = {"通常": "Actual", "訓練": "Exercise", "試験": "Test"}
MSG_TYPE = {"発表": "Alert", "訂正": "Update", "取消": "Cancel"}
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


class JMAError(AlertCommonsError):
    """The file is not a JMA disaster-prevention XML report that can be read."""


@dataclass(frozen=True, slots=True)
class Kind:
    key: str  # short, for identifiers
    event: str | None  # None: use the report's own title
    category: str
    urgency: str
    severity: str
    certainty: str
    response: str | None = None


# Control/Title → how the report reads as CAP. Titles not here are skipped.
KINDS: dict[str, Kind] = {
    "気象特別警報・警報・注意報": Kind("weather", None, "Met", "Expected", "Severe", "Likely"),
    "気象警報・注意報": Kind("weather", None, "Met", "Expected", "Severe", "Likely"),
    "津波警報・注意報・予報a": Kind(
        "tsunami", None, "Geo", "Immediate", "Extreme", "Likely", "Evacuate"
    ),
    "津波情報a": Kind("tsunami-info", "津波情報", "Geo", "Immediate", "Severe", "Observed"),
    "沖合の津波観測に関する情報": Kind(
        "tsunami-offshore", "沖合の津波観測に関する情報", "Geo", "Immediate", "Severe", "Observed"
    ),
    "緊急地震速報（警報）": Kind(
        "eew", "緊急地震速報（警報）", "Geo", "Immediate", "Severe", "Likely", "Shelter"
    ),
    "緊急地震速報（予報）": Kind(
        "eew-forecast", "緊急地震速報（予報）", "Geo", "Immediate", "Moderate", "Possible"
    ),
    "緊急地震速報（地震動予報）": Kind(
        "eew-forecast", "緊急地震速報（地震動予報）", "Geo", "Immediate", "Moderate", "Possible"
    ),
    "震度速報": Kind("intensity", "震度速報", "Geo", "Immediate", "Moderate", "Observed"),
    "震源に関する情報": Kind(
        "hypocentre", "震源に関する情報", "Geo", "Past", "Moderate", "Observed"
    ),
    "震源・震度に関する情報": Kind("earthquake", "地震情報", "Geo", "Past", "Moderate", "Observed"),
    "噴火警報・予報": Kind("volcano", None, "Geo", "Expected", "Severe", "Likely"),
    "噴火速報": Kind("eruption", "噴火速報", "Geo", "Immediate", "Severe", "Observed", "Evacuate"),
    "土砂災害警戒情報": Kind(
        "landslide", "土砂災害警戒情報", "Geo", "Immediate", "Severe", "Likely", "Evacuate"
    ),
    "指定河川洪水予報": Kind("flood", None, "Met", "Expected", "Severe", "Likely"),
    "竜巻注意情報": Kind(
        "tornado", "竜巻注意情報", "Met", "Immediate", "Severe", "Possible", "Shelter"
    ),
    "記録的短時間大雨情報": Kind(
        "record-rain", "記録的短時間大雨情報", "Met", "Immediate", "Severe", "Observed"
    ),
}


@dataclass(slots=True)
class Converted:
    type: str  # the report's Control/Title
    alert: Alert | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


def convert(data: bytes) -> Converted:
    try:
        root = parse_xml(data, JMA_LIMITS)
    except UnsafeXMLError as exc:
        raise JMAError(str(exc)) from None
    if root.tag != f"{CONTROL}Report":
        raise JMAError(f"not a JMA report: root element is {root.tag}")
    control, head = root.find(f"{CONTROL}Control"), root.find(f"{HEAD}Head")
    if control is None or head is None:
        raise JMAError("a JMA report needs Control and Head")
    title = _text(control, "Title")
    kind = _kind(title)
    if kind is None:
        return Converted(title, skipped=f"'{title}' is not a warning or information to act on")
    status = STATUS.get(_text(control, "Status"))
    info_type = _text(head, "InfoType")
    msg_type = MSG_TYPE.get(info_type)
    if status is None or msg_type is None:
        raise JMAError(f"unknown Status '{_text(control, 'Status')}' or InfoType '{info_type}'")
    reported = _moment(_text(head, "ReportDateTime") or _text(control, "DateTime"))
    event_key = _token(_text(head, "EventID") or _text(control, "EditorialOffice") or "x")
    base = f"jma.{kind.key}.{event_key}"
    identifier = f"{base}.{reported:%Y%m%dT%H%M%S}.{_token(_text(head, 'Serial') or '0')}"
    if msg_type != "Alert":
        identifier += f".{_token(info_type)}"
    headline_text = _text(head.find(f"{HEAD}Headline"), "Text") if head is not None else ""
    areas = _areas(root)
    sent = format_datetime(reported)
    info = Info(
        language="ja-JP",
        categories=[kind.category],
        event=kind.event or _text(head, "Title") or title,
        response_types=[kind.response] if kind.response and msg_type == "Alert" else [],
        urgency=kind.urgency if msg_type != "Cancel" else "Past",
        severity=kind.severity if msg_type != "Cancel" else "Minor",
        certainty=kind.certainty,
        event_codes=[ValuePair("JMA:InfoKind", _text(head, "InfoKind") or title)],
        effective=sent,
        sender_name=_text(control, "PublishingOffice") or "気象庁",
        headline=(_text(head, "Title") or title)[:200],
        description=headline_text or None,
        areas=areas,
    )
    alert = Alert(
        identifier=identifier,
        sender=SENDER,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope="Public",
        references=f"{SENDER},{base},{sent}" if msg_type != "Alert" else None,
        incidents=event_key if _text(head, "EventID") else None,
        infos=[info],
    )
    return Converted(title, alert=alert)


def _kind(title: str) -> Kind | None:
    if title in KINDS:
        return KINDS[title]
    if title.startswith("気象警報・注意報"):  # the level-labelled VPWW55–61 family
        return KINDS["気象警報・注意報"]
    if title.startswith("指定河川洪水予報"):
        return KINDS["指定河川洪水予報"]
    return None


def _areas(root: etree._Element) -> list[Area]:
    seen: dict[tuple[str, str], str] = {}
    for holder in root.iter():
        if not isinstance(holder.tag, str) or not holder.tag.endswith("}Areas"):
            continue
        value_name = CODE_TYPES.get(holder.get("codeType", ""), f"JMA:{holder.get('codeType')}")
        for area in holder:
            if not isinstance(area.tag, str):
                continue
            code, name = _child_text(area, "Code"), _child_text(area, "Name")
            if code and code.isascii() and code.isdigit():
                seen.setdefault((value_name, code), name or code)
    if not seen:
        return []
    geocodes = []
    for value_name, code in sorted(seen):
        geocodes.append(ValuePair(value_name, code))
        if value_name == "JMA:city" and len(code) == 7 and code.endswith("00"):
            try:
                municipality = normalize(code[:5])
            except CodeError:
                continue
            if len(municipality) == 5:
                geocodes.append(ValuePair("JIS X 0402", with_check_digit(municipality)))
    names = list(dict.fromkeys(seen.values()))
    description = "、".join(names[:20]) + ("ほか" if len(names) > 20 else "")
    return [Area(area_desc=description, geocodes=geocodes)]


def _child_text(element: etree._Element, local: str) -> str:
    for child in element:
        if isinstance(child.tag, str) and child.tag.endswith("}" + local):
            return (child.text or "").strip()
    return ""


def _text(element: etree._Element | None, local: str) -> str:
    if element is None:
        return ""
    return _child_text(element, local)


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise JMAError(f"'{text}' is not a date-time") from None


def _token(text: str) -> str:
    return re.sub(r"[\s,<&]+", "_", text.strip())
