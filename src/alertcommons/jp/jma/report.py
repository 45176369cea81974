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

from dataclasses import dataclass, field, replace

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.cap.xmlsafe import UnsafeXMLError, parse_xml
from alertcommons.jp import national
from alertcommons.jp.jma import english, languages, seismic
from alertcommons.jp.jma.areas import areas_of
from alertcommons.jp.jma.common import (
    CONTROL,
    HEAD,
    JMA_LIMITS,
    SENDER,
    SEVERITY_ORDER,
    JMAError,
    Kind,
    moment,
    text_of,
    token,
)
from alertcommons.jp.jma.warnings import by_severity, graded_items, kind_key

STATUS = {"通常": "Actual", "訓練": "Exercise", "試験": "Test"}
MSG_TYPE = {"発表": "Alert", "訂正": "Update", "取消": "Cancel"}

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
        "eew",
        "緊急地震速報（警報）",
        "Geo",
        "Immediate",
        "Severe",
        "Likely",
        "Shelter",
        seismic=True,
    ),
    "緊急地震速報（予報）": Kind(
        "eew-forecast",
        "緊急地震速報（予報）",
        "Geo",
        "Immediate",
        "Moderate",
        "Possible",
        seismic=True,
    ),
    "緊急地震速報（地震動予報）": Kind(
        "eew-forecast",
        "緊急地震速報（地震動予報）",
        "Geo",
        "Immediate",
        "Moderate",
        "Possible",
        seismic=True,
    ),
    "震度速報": Kind(
        "intensity", "震度速報", "Geo", "Immediate", "Moderate", "Observed", seismic=True
    ),
    "震源に関する情報": Kind(
        "hypocentre", "震源に関する情報", "Geo", "Past", "Moderate", "Observed", seismic=True
    ),
    "震源・震度に関する情報": Kind(
        "earthquake", "地震情報", "Geo", "Past", "Moderate", "Observed", seismic=True
    ),
    "長周期地震動に関する観測情報": Kind(
        "long-period",
        "長周期地震動に関する観測情報",
        "Geo",
        "Past",
        "Moderate",
        "Observed",
        seismic=True,
    ),
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
    title = text_of(control, "Title")
    kind = _kind(title)
    if kind is None:
        return Converted(title, skipped=f"'{title}' is not a warning or information to act on")
    status = STATUS.get(text_of(control, "Status"))
    info_type = text_of(head, "InfoType")
    msg_type = MSG_TYPE.get(info_type)
    if status is None or msg_type is None:
        raise JMAError(f"unknown Status '{text_of(control, 'Status')}' or InfoType '{info_type}'")
    reported = moment(text_of(head, "ReportDateTime") or text_of(control, "DateTime"))
    event_id = text_of(head, "EventID")
    base = event_base(status, kind_key(kind, title), text_of(control, "EditorialOffice"), event_id)
    identifier = f"{base}.{reported:%Y%m%dT%H%M%S}.{token(text_of(head, 'Serial') or '0')}"
    if msg_type != "Alert":
        identifier += f".{token(info_type)}"
    headline_text = text_of(head.find(f"{HEAD}Headline"), "Text")
    sent = format_datetime(reported)
    event = kind.event or text_of(head, "Title") or title
    cancel = msg_type == "Cancel"

    def info(
        severity: str,
        event: str,
        areas: list[Area],
        *,
        urgency: str | None = None,
        description: str | None = None,
        parameters: list[ValuePair] | None = None,
    ) -> Info:
        minor = severity == "Minor"
        if urgency is None:
            urgency = "Expected" if minor else kind.urgency
        return Info(
            language="ja-JP",
            categories=[kind.category],
            event=event,
            response_types=[kind.response] if kind.response and not (cancel or minor) else [],
            urgency="Past" if cancel else urgency,
            severity="Minor" if cancel else severity,
            certainty=kind.certainty,
            event_codes=[ValuePair("JMA:InfoKind", text_of(head, "InfoKind") or title)],
            effective=sent,
            sender_name=text_of(control, "PublishingOffice") or "気象庁",
            headline=(text_of(head, "Title") or title)[:200],
            description=description or headline_text or None,
            parameters=parameters or [],
            areas=areas,
        )

    found = seismic.read(root, kind.key) if kind.seismic else None
    graded = graded_items(root) if kind.graded else {}
    if found is not None:
        severity, urgency = _seismic_grade(kind, found)
        areas = seismic.areas(found) or _epicentre(found) or areas_of(root.iter(), single=False)
        description = seismic.describe(found, headline_text, areas)
        infos = [
            info(
                severity,
                event,
                areas,
                urgency=urgency,
                description=description,
                parameters=seismic.parameters(found),
            )
        ]
    elif graded:
        infos = [
            info(severity, "・".join(names)[:200], areas_of(holders))
            for severity, (names, holders) in sorted(graded.items(), key=by_severity)
        ]
    elif kind is MEGAQUAKE:
        text = f"{text_of(head, 'Title')} {headline_text}"
        infos = [info(_megaquake_severity(text), event, areas_of(root.iter(), single=False))]
    else:
        infos = [info(kind.severity, event, areas_of(root.iter(), single=False))]
    # Every info again in English, so English pages and receivers are never left with a
    # Japanese-only warning (english.py holds the phrase tables).
    japanese = list(infos)
    infos += [english.translate(kind, each, found) for each in infos]
    kept = len(infos)
    infos += languages.translations(japanese, kind, cancel=cancel)
    if not cancel:
        infos = [_with_activation(kind.key, each) for each in infos]
    alert = Alert(
        identifier=identifier,
        sender=SENDER,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope="Public",
        references=f"{SENDER},{base},{sent}" if msg_type != "Alert" else None,
        incidents=token(event_id) if event_id else None,
        infos=infos,
    )
    alert, notes = languages.within_budget(alert, kept)
    return Converted(title, alert=alert, notes=notes, event_base=base + ".")


def _seismic_grade(kind: Kind, found: seismic.Seismic) -> tuple[str, str]:
    """Severity and urgency by the highest intensity (seismic.py's tables); a report that
    gives none keeps its kind's. An early warning (警報) is never below Severe: the JMA
    issues one only for shaking of 5- or more somewhere, and J-Alert sounds it."""
    graded = found.grade()
    severity, urgency = graded if graded is not None else (kind.severity, kind.urgency)
    if kind.key == "eew" and SEVERITY_ORDER.index(severity) > SEVERITY_ORDER.index("Severe"):
        severity, urgency = "Severe", "Immediate"
    return severity, urgency


def _epicentre(found: seismic.Seismic) -> list[Area]:
    """A report of the quake alone (震源に関する情報) applies around its epicentre."""
    quake = found.quake
    if quake is None or not quake.epicentre_code.isdigit():
        return []
    return [
        Area(
            area_desc=f"震央地名：{quake.epicentre or quake.epicentre_code}",
            geocodes=[ValuePair("JMA:epicentre", quake.epicentre_code)],
        )
    ]


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


def event_base(status: str, kind: str, office: str, event_id: str) -> str:
    """The identifier prefix every alert of one event shares: one event is one office's
    reports of one kind (and EventID, where the JMA gives one), in one status. A training
    (訓練) or test (試験) report is its own world and never continues a real event. Should a
    backup office take over an event, its reports start a chain of their own: the earlier
    warning then stays in force beside it, which errs on the safe side."""
    world = "" if status == "Actual" else f"{status.lower()}."
    parts = [token(office or "x")] + ([token(event_id)] if event_id else [])
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
