"""National warnings (国民保護情報 and the like, as J-Alert carries them).

Only a national issuer (jurisdiction ``*``) may send them. They skip any approval step, go
out before everything else in the delivery queue, and ask receivers to start their
disaster-radio loudspeakers automatically: the CAP carries the parameter
``JP:loudspeaker`` = ``activate``, the JSON record ``"activation": true``, and the MQTT
channel publishes an activation command on ``{prefix}/activate/{area}``.

The texts are J-Alert's standard wording; an issuer may add its own description.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.jp.codes import name_of, normalize, with_check_digit
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


def requests_activation(document: Any) -> bool:
    """Does this alert (a model or its CAP JSON) ask for loudspeaker activation?"""
    if isinstance(document, Alert):
        return any(
            p.value_name == LOUDSPEAKER and (p.value or "").strip() == ACTIVATE
            for info in document.infos
            for p in info.parameters
        )
    return any(
        pair.get("valueName") == LOUDSPEAKER and pair.get("value") == ACTIVATE
        for info in (document or {}).get("info", [])
        for pair in info.get("parameter", [])
    )


def build(
    sender: str,
    kind: str,
    areas: list[str],
    *,
    status: str = "Actual",
    description_ja: str | None = None,
    minutes: int = 60,
    now: datetime | None = None,
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
    area_desc = "、".join(name_of(c) or c for c in canonical[:20]) + (
        "ほか" if len(canonical) > 20 else ""
    )

    def info(language: str, event: str, text: str, description: str | None) -> Info:
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
            areas=[Area(area_desc=area_desc, geocodes=list(geocodes))],
        )

    return Alert(
        identifier=f"national.{kind}.{moment:%Y%m%dT%H%M%S}.{secrets.token_hex(3)}",
        sender=sender,
        sent=sent,
        status=status,
        msg_type="Alert",
        scope="Public",
        infos=[
            info("ja-JP", spec.event_ja, spec.text_ja, description_ja),
            info("en-US", spec.event_en, spec.text_en, None),
        ],
    )
