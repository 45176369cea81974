"""JMA disaster-prevention XML (気象庁防災情報XML) → CAP 1.2, in the Japan profile.

Reports people must act on (warnings, tsunami, earthquake early warnings, seismic and volcanic
information, landslide alerts, river flood forecasts, …) become one CAP alert each; forecasts,
statistics and other reports are skipped with a reason. Every JMA area code in the report
travels as a geocode (``JMA:city``, ``JMA:forecast``, ``JMA:tsunami``, ``JMA:seismic``, …);
a municipality (7-digit city code) also travels as its local-government code
(``JIS X 0402``), which is what jurisdictions and most receivers' filters use.

Status: 通常 → Actual, 訓練 → Exercise, 試験 → Test. InfoType: 発表 → Alert, 訂正 → Update,
取消 → Cancel. Every alert of one event shares the identifier prefix
``jma.[<status>.]<kind>.<office>[.<EventID>].`` (``event_base``): one office's reports of one
kind of warning and event, in one status. ``follow`` links a report to the event's previous
alert (a new 発表 of the same event supersedes it, so it becomes an Update), giving exact
``references``.

Warnings are graded per item: 特別警報 and 大津波警報 are Extreme, 警報 Severe, 注意報 Moderate,
予報 and lifted (解除) ones Minor. A report with several grades gets one ``info`` per grade,
most severe first, each with its own areas, so a receiver can tell the 大津波警報 coast from
the 津波予報 coast of the same report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lxml import etree

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.cap.writer import to_xml
from alertcommons.cap.xmlsafe import ReadLimits, UnsafeXMLError, parse_xml
from alertcommons.errors import AlertCommonsError
from alertcommons.jp import national, phrases
from alertcommons.jp.codes import CodeError, normalize, with_check_digit
from alertcommons.jp.tsunami_regions import prefectures_of

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
    graded: bool = False  # severity per item from the warning kinds' names


# Control/Title → how the report reads as CAP. Titles not here are skipped.
KINDS: dict[str, Kind] = {
    "気象特別警報・警報・注意報": Kind(
        "weather", None, "Met", "Expected", "Severe", "Likely", graded=True
    ),
    "気象警報・注意報": Kind("weather", None, "Met", "Expected", "Severe", "Likely", graded=True),
    "津波警報・注意報・予報a": Kind(
        "tsunami", None, "Geo", "Immediate", "Extreme", "Likely", "Evacuate", graded=True
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
    event_base: str = ""  # identifier prefix shared by every alert of the event


def follow(alert: Alert, base: str, previous: tuple[str, str] | None) -> Alert | None:
    """Link ``alert`` to the event's previous alert ``(identifier, sent)``.

    With one, references name it exactly and a new 発表 becomes an Update. Without one, a
    訂正 stands alone as an Alert and a 取消 has nothing to cancel (``None``)."""
    if previous is None:
        if alert.msg_type == "Cancel":
            return None
        if alert.msg_type == "Update":
            return replace(alert, msg_type="Alert", references=None)
        return alert
    identifier, sent = previous
    msg_type = "Update" if alert.msg_type == "Alert" else alert.msg_type
    return replace(alert, msg_type=msg_type, references=f"{SENDER},{identifier},{sent}")


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
    event_id = _text(head, "EventID")
    base = event_base(status, _kind_key(kind, title), _text(control, "EditorialOffice"), event_id)
    identifier = f"{base}.{reported:%Y%m%dT%H%M%S}.{_token(_text(head, 'Serial') or '0')}"
    if msg_type != "Alert":
        identifier += f".{_token(info_type)}"
    headline_text = _text(head.find(f"{HEAD}Headline"), "Text") if head is not None else ""
    sent = format_datetime(reported)
    event = kind.event or _text(head, "Title") or title

    def info(severity: str, event: str, areas: list[Area]) -> Info:
        cancel = msg_type == "Cancel"
        minor = severity == "Minor"
        return Info(
            language="ja-JP",
            categories=[kind.category],
            event=event,
            response_types=[kind.response] if kind.response and not (cancel or minor) else [],
            urgency="Past" if cancel else ("Expected" if minor else kind.urgency),
            severity="Minor" if cancel else severity,
            certainty=kind.certainty,
            event_codes=[ValuePair("JMA:InfoKind", _text(head, "InfoKind") or title)],
            effective=sent,
            sender_name=_text(control, "PublishingOffice") or "気象庁",
            headline=(_text(head, "Title") or title)[:200],
            description=headline_text or None,
            areas=areas,
        )

    graded = _graded_items(root) if kind.graded else {}
    if graded:
        infos = [
            info(severity, "・".join(names)[:200], _areas(holders))
            for severity, (names, holders) in sorted(graded.items(), key=_by_severity)
        ]
    elif kind is MEGAQUAKE:
        text = f"{_text(head, 'Title')} {headline_text}"
        infos = [info(_megaquake_severity(text), event, _areas(root.iter(), single=False))]
    else:
        infos = [info(kind.severity, event, _areas(root.iter(), single=False))]
    if msg_type != "Cancel":
        infos = [_with_activation(kind.key, each) for each in infos]
    japanese = len(infos)
    infos += translations(infos, kind, cancel=msg_type == "Cancel")
    alert = Alert(
        identifier=identifier,
        sender=SENDER,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope="Public",
        references=f"{SENDER},{base},{sent}" if msg_type != "Alert" else None,
        incidents=_token(event_id) if event_id else None,
        infos=infos,
    )
    alert, notes = _within_budget(alert, japanese)
    return Converted(title, alert=alert, notes=notes, event_base=base + ".")


def translations(infos: list[Info], kind: Kind, *, cancel: bool) -> list[Info]:
    """The report's ``info`` blocks in the phrase table's other languages: the event named
    per kind (and grade), where the full Japanese text is, and the areas by municipality
    in the reader's script where the report names municipalities."""
    found = []
    for language in phrases.LANGUAGES:
        if language == phrases.JA:
            continue
        for info in infos:
            key = f"event.{kind.key}.{info.severity}" if kind.graded else f"event.{kind.key}"
            event = phrases.phrase("jma", key, language)
            details = phrases.phrase("jma", "details.cancel" if cancel else "details", language)
            found.append(
                replace(
                    info,
                    language=language,
                    event=event,
                    headline=event,
                    description=details,
                    areas=[_area_in(area, language) for area in info.areas],
                )
            )
    return found


# Translations repeat every area of the report; a report naming every municipality of Japan
# would grow eightfold. They never make a report too large to publish: past this size the
# last languages are left out (English stays longest), the Japanese never.
TRANSLATION_BUDGET = 200_000


def _within_budget(alert: Alert, japanese: int) -> tuple[Alert, list[str]]:
    if len(to_xml(alert)) <= TRANSLATION_BUDGET:
        return alert, []
    kept = [lang for lang in phrases.LANGUAGES if lang != phrases.JA]
    left_out: list[str] = []
    while kept:
        left_out.insert(0, kept.pop())
        infos = alert.infos[:japanese] + [i for i in alert.infos[japanese:] if i.language in kept]
        alert = replace(alert, infos=infos)
        if len(to_xml(alert)) <= TRANSLATION_BUDGET:
            break
    return alert, [f"left out {', '.join(left_out)}: over {TRANSLATION_BUDGET:,} bytes with them"]


def _area_in(area: Area, language: str) -> Area:
    codes = [g.value for g in area.geocodes if g.value_name == "JIS X 0402" and g.value]
    if phrases.kanji_script(language) or not codes:
        return area
    names = [phrases.place_name(code, language) for code in codes[:20]]
    more = " …" if len(codes) > 20 else ""
    return replace(area, area_desc=phrases.places_separator(language).join(names) + more)


# The JMA warnings J-Alert relays to start loudspeakers automatically; the JMA is a national
# issuer, so these take the top dispatch priority too (see jp/national.py).
ACTIVATING = {
    ("eew", "Severe"): "eew",
    ("eew", "Extreme"): "eew",
    ("tsunami", "Extreme"): "major_tsunami",
    ("tsunami", "Severe"): "tsunami",
    ("weather", "Extreme"): "special_warning",
}


def _with_activation(key: str, info: Info) -> Info:
    warning = ACTIVATING.get((key, info.severity or ""))
    if warning is None:
        return info
    return replace(
        info,
        event_codes=[*info.event_codes, ValuePair(national.KIND_CODE, warning)],
        parameters=[*info.parameters, ValuePair(national.LOUDSPEAKER, national.ACTIVATE)],
    )


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


def _kind_key(kind: Kind, title: str) -> str:
    if kind.key != "weather":
        return kind.key
    plain = unicodedata.normalize("NFKC", title)  # full-width brackets and digits to ASCII
    named = [b.strip() for b in _BRACKETS.findall(plain) if not _VERSION.match(b.strip())]
    if not named:
        return kind.key
    return f"{kind.key}-{WARNING_KINDS.get(named[-1], _token(named[-1]))}"


def event_base(status: str, kind: str, office: str, event_id: str) -> str:
    """The identifier prefix every alert of one event shares: one event is one office's
    reports of one kind (and EventID, where the JMA gives one), in one status. A training
    (訓練) or test (試験) report is its own world and never continues a real event. Should a
    backup office take over an event, its reports start a chain of their own: the earlier
    warning then stays in force beside it, which errs on the safe side."""
    world = "" if status == "Actual" else f"{status.lower()}."
    parts = [_token(office or "x")] + ([_token(event_id)] if event_id else [])
    return f"jma.{world}{kind}.{'.'.join(parts)}"


def _kind(title: str) -> Kind | None:
    if title in KINDS:
        return KINDS[title]
    if title.startswith("気象警報・注意報"):  # the level-labelled VPWW55–61 family
        return KINDS["気象警報・注意報"]
    if title.startswith("指定河川洪水予報"):
        return KINDS["指定河川洪水予報"]
    if "南海トラフ地震" in title or "後発地震注意情報" in title:
        return MEGAQUAKE
    return None


# 南海トラフ地震臨時情報 and 北海道・三陸沖後発地震注意情報: a higher chance of a great
# earthquake; people prepare (and, under 巨大地震警戒, some evacuate in advance).
MEGAQUAKE = Kind("megaquake", None, "Geo", "Future", "Severe", "Possible", "Prepare")


def _megaquake_severity(text: str) -> str:
    """巨大地震警戒 is Severe; 巨大地震注意, 調査中 and 後発地震注意 Moderate; 調査終了 Minor."""
    if "巨大地震警戒" in text:
        return "Severe"
    if "調査終了" in text:
        return "Minor"
    return "Moderate"


SEVERITY_ORDER = ("Extreme", "Severe", "Moderate", "Minor")


def _grade(name: str, status: str) -> str | None:
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


def _by_severity(item: tuple[str, Any]) -> int:
    return SEVERITY_ORDER.index(item[0])


def _graded_items(root: etree._Element) -> dict[str, tuple[list[str], list[etree._Element]]]:
    """Body items grouped by their most severe warning kind: names and area holders."""
    body = next((c for c in root if isinstance(c.tag, str) and c.tag.endswith("}Body")), None)
    groups: dict[str, tuple[list[str], list[etree._Element]]] = {}
    if body is None:
        return groups
    for item in body.iter():
        if not isinstance(item.tag, str) or not item.tag.endswith("}Item"):
            continue
        kinds = [k for k in item.iter() if isinstance(k.tag, str) and k.tag.endswith("}Kind")]
        grades = []
        for kind in kinds:
            name = _child_text(kind, "Name")
            grade = _grade(name, _child_text(kind, "Status"))
            if grade is not None:
                grades.append((SEVERITY_ORDER.index(grade), name.split("：")[0]))
        holders = [
            c for c in item if isinstance(c.tag, str) and c.tag.endswith(("}Area", "}Areas"))
        ]
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


def _code_type(holder: etree._Element) -> str:
    """A holder's code type: its own attribute, else the nearest CodeDefine naming its path."""
    declared = holder.get("codeType")
    if declared is None:
        local = etree.QName(holder).localname
        for ancestor in holder.iterancestors():
            for define in ancestor:
                if not (isinstance(define.tag, str) and define.tag.endswith("}CodeDefine")):
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


def _areas(holders: Iterable[etree._Element], *, single: bool = True) -> list[Area]:
    """Areas of the given holders; ``single=False`` reads only ``Areas`` lists, skipping a
    lone ``Area`` such as an epicentre, which is not where the alert applies."""
    seen: dict[tuple[str, str], str] = {}
    for holder in holders:
        if not isinstance(holder.tag, str):
            continue
        if holder.tag.endswith("}Areas"):
            members = [a for a in holder if isinstance(a.tag, str)]
        elif single and holder.tag.endswith("}Area"):
            parent = holder.getparent()
            if parent is None or parent.tag.endswith("}Areas"):
                continue  # a member of an Areas holder, read with it
            members = [holder]
        else:
            continue
        value_name = _code_type(holder)
        for area in members:
            code, name = _child_text(area, "Code"), _child_text(area, "Name")
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
        if value_name == "JMA:city" and len(code) == 7 and code.endswith("00"):
            try:
                municipality = normalize(code[:5])
            except CodeError:
                continue
            if len(municipality) == 5:
                geocodes.append(ValuePair("JIS X 0402", with_check_digit(municipality)))
    for prefecture in sorted(prefectures):  # so local-government subscribers are reached
        geocodes.append(ValuePair("JIS X 0402", with_check_digit(prefecture + "000")))
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
