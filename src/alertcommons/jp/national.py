"""National warnings (国民保護情報 and the like, as J-Alert carries them).

Only a national issuer (jurisdiction ``*``) may send them. They skip any approval step, go
out before everything else in the delivery queue, and ask receivers to start their
disaster-radio loudspeakers automatically: the CAP carries the parameter
``JP:loudspeaker`` = ``activate``, the JSON record ``"activation": true``, and the MQTT
channel publishes an activation command on ``{prefix}/activate/{area}``.

The texts are J-Alert's standard wording; an issuer may add its own description.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.jp import phrases
from alertcommons.jp.codes import normalize, with_check_digit
from alertcommons.jp.evacuation import JST

KIND_CODE = "JP:national-warning"
LOUDSPEAKER = "JP:loudspeaker"
ACTIVATE = "activate"


@dataclass(frozen=True, slots=True)
class WarningKind:
    event_ja: str
    event_en: str
    category: str
    response: str
    text_ja: str
    text_en: str


KINDS = {
    "missile": WarningKind(
        "弾道ミサイル情報",
        "Ballistic missile",
        "Security",
        "Shelter",
        "ミサイル発射。ミサイル発射。ミサイルが発射されたものとみられます。"
        "建物の中、又は地下に避難して下さい。",
        "Missile launch. A missile appears to have been launched. "
        "Take shelter inside a building or underground now.",
    ),
    "eew": WarningKind(
        "緊急地震速報",
        "Earthquake early warning",
        "Geo",
        "Shelter",
        "緊急地震速報。大地震です。大地震です。強い揺れに警戒して下さい。",
        "Earthquake early warning. Strong shaking is coming. Protect yourself now.",
    ),
    "major_tsunami": WarningKind(
        "大津波警報",
        "Major tsunami warning",
        "Geo",
        "Evacuate",
        "大津波警報が発表されました。海岸付近の方は直ちに高台に避難して下さい。",
        "A major tsunami warning has been issued. "
        "If you are near the coast, go to high ground immediately.",
    ),
    "air_attack": WarningKind(
        "航空攻撃情報",
        "Air attack",
        "Security",
        "Shelter",
        "航空攻撃情報。当地域に航空攻撃の可能性があります。屋内に避難し、"
        "テレビ・ラジオをつけて下さい。",
        "Air attack warning. This area may come under air attack. "
        "Go indoors and turn on the TV or radio.",
    ),
    "large_scale_terror": WarningKind(
        "大規模テロ情報",
        "Large-scale terrorism",
        "Security",
        "Shelter",
        "大規模テロ情報。当地域に大規模テロの可能性があります。屋内に避難し、"
        "テレビ・ラジオをつけて下さい。",
        "Large-scale terrorism warning. Go indoors and turn on the TV or radio.",
    ),
}


def fold(text: str | None) -> str:
    """A name as a reader would take it, however it is spelled: NFKC (full-width letters
    become ASCII ones), case-folded, keeping only letters and digits (so zero-width, format
    and white-space characters, and ``:``/``-``/``_`` between words, make no difference)."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


_LOUDSPEAKER = fold(LOUDSPEAKER)
_ACTIVATE = fold(ACTIVATE)
# Names that only a national issuer's alert may carry: a receiver (or a resident) who sees
# them takes the alert for a national warning, or starts its loudspeakers.
_RESERVED_NAMES = ("loudspeaker", fold(KIND_CODE), "jalert", "nationalwarning")
_NATIONAL_AUTHORITIES = {
    fold(name)
    for name in (
        "内閣官房",
        "内閣府",
        "気象庁",
        "消防庁",
        "総務省消防庁",
        "Cabinet Secretariat",
        "Japan Meteorological Agency",
        "Fire and Disaster Management Agency",
        "J-Alert",
        "Jアラート",
        "全国瞬時警報システム",
    )
}


def _pairs(document: Any, key: str, json_key: str) -> list[tuple[str, str]]:
    if isinstance(document, Alert):
        return [
            (p.value_name or "", p.value or "")
            for info in document.infos
            for p in getattr(info, key)
        ]
    return [
        (str(pair.get("valueName") or ""), str(pair.get("value") or ""))
        for info in (document or {}).get("info", [])
        for pair in info.get(json_key, [])
    ]


def requests_activation(document: Any) -> bool:
    """Does this alert (a model or its CAP JSON) ask for loudspeaker activation? However the
    parameter is spelled: a controller that reads it loosely must not be started by a
    spelling the hub did not recognize."""
    return any(
        fold(name) == _LOUDSPEAKER and fold(value) == _ACTIVATE
        for name, value in _pairs(document, "parameters", "parameter")
    )


@functools.cache
def _national_events() -> frozenset[str]:
    """The J-Alert event names, folded, in every language the hub writes them in, not only
    Japanese and English. Folded once: folding them all on every publish was a tenth of a
    publish's CPU."""
    return frozenset(
        fold(event)
        for key in KINDS
        for event in phrases.PHRASES["national"][f"event.{key}"].values()
    )


def imitation(alert: Alert) -> str | None:
    """Why this alert looks like a national warning or a loudspeaker activation, or None.

    Refused from anyone but a national issuer: eventCodes and parameters whose names contain
    a reserved name (``JP:loudspeaker``, ``JP:national-warning``, J-Alert) however spelled,
    the J-Alert event names, and a ``senderName`` that is a national authority's."""
    for where, key in (("eventCode", "event_codes"), ("parameter", "parameters")):
        for name, _ in _pairs(alert, key, ""):
            folded = fold(name)
            if any(reserved in folded for reserved in _RESERVED_NAMES):
                return f"{where} '{name}' is reserved for national warnings"
    events = _national_events()
    for info in alert.infos:
        if fold(info.event) in events:
            return f"event '{info.event}' is a national warning's"
        if info.sender_name and fold(info.sender_name) in _NATIONAL_AUTHORITIES:
            return f"senderName '{info.sender_name}' names a national authority"
    return None


def build(
    sender: str,
    kind: str,
    areas: list[str],
    *,
    status: str = "Actual",
    description_ja: str | None = None,
    minutes: int = 60,
    now: datetime | None = None,
    languages: tuple[str, ...] | None = None,  # default: every language of the phrase table
) -> Alert:
    """A national warning for local-government ``areas`` (2/5/6-digit codes)."""
    spec = KINDS[kind]
    moment = (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    expires = format_datetime(moment + timedelta(minutes=minutes))
    canonical = list(dict.fromkeys(normalize(code) for code in areas))
    geocodes = [
        ValuePair("JIS X 0402", with_check_digit(c if len(c) == 5 else c + "000"))
        for c in canonical
    ]

    def area_desc(language: str) -> str:
        names = [phrases.place_name(c, language) for c in canonical[:20]]
        more = {"ja-JP": "ほか", "ja-JP-x-easy": "など"}.get(language, " …")
        return phrases.places_separator(language).join(names) + (
            more if len(canonical) > 20 else ""
        )

    def info(language: str) -> Info:
        event = phrases.phrase("national", f"event.{kind}", language)
        text = phrases.phrase("national", f"text.{kind}", language)
        description = description_ja if language == phrases.JA else None
        return Info(
            language=language,
            categories=[spec.category],
            event=event,
            response_types=[spec.response],
            urgency="Immediate",
            severity="Extreme",
            certainty="Observed" if kind == "missile" else "Likely",
            event_codes=[ValuePair(KIND_CODE, kind)],
            effective=sent,
            expires=expires,
            sender_name="内閣官房" if spec.category == "Security" else "気象庁",
            headline=event,
            description=description or text,
            instruction=text,
            parameters=[ValuePair(LOUDSPEAKER, ACTIVATE)],
            areas=[Area(area_desc=area_desc(language), geocodes=list(geocodes))],
        )

    return Alert(
        identifier=f"national.{kind}.{moment:%Y%m%dT%H%M%S}.{secrets.token_hex(3)}",
        sender=sender,
        sent=sent,
        status=status,
        msg_type="Alert",
        scope="Public",
        infos=[info(language) for language in phrases.wanted(languages)],
    )
