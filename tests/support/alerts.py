"""Building CAP alerts for tests, in the Japan profile."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alertcommons.cap import Alert, Area, Info, ValuePair, to_json, to_xml
from alertcommons.cap.values import format_datetime
from alertcommons.store.alerts import NewAlert
from alertcommons.store.ids import new_id

_serial = itertools.count(1)


def make_alert(
    sender: str,
    codes: list[str] | None = None,
    *,
    identifier: str | None = None,
    msg_type: str = "Alert",
    references: str | None = None,
    polygon: str | None = None,
    status: str = "Actual",
    event: str = "避難指示",
    headline: str = "【警戒レベル4】避難指示",
    hours: int = 6,
    sent: datetime | None = None,
    urgency: str = "Immediate",
    severity: str = "Severe",
) -> Alert:
    moment = (sent or datetime.now(UTC)).replace(microsecond=0)
    area = Area(
        area_desc="対象地区",
        geocodes=[ValuePair("JIS X 0402", code) for code in (codes or [])],
        polygons=[polygon] if polygon else [],
    )
    return Alert(
        identifier=identifier or f"test-{next(_serial)}-{moment.timestamp():.0f}",
        sender=sender,
        sent=format_datetime(moment),
        status=status,
        msg_type=msg_type,
        scope="Public",
        references=references,
        infos=[
            Info(
                language="ja-JP",
                categories=["Safety"],
                event=event,
                urgency=urgency,
                severity=severity,
                certainty="Likely",
                effective=format_datetime(moment),
                expires=format_datetime(moment + timedelta(hours=hours)),
                headline=headline,
                areas=[area],
            )
        ],
    )


def xml(alert: Alert) -> bytes:
    return to_xml(alert)


def reference_to(alert: Alert) -> str:
    return f"{alert.sender},{alert.identifier},{alert.sent}"


CAP_XML = {"Content-Type": "application/cap+xml"}


def stored_rows(alert: Alert, organization_id: str, count: int, area: str) -> list[NewAlert]:
    """``count`` store rows of ``alert`` (identifiers numbered), in force for six hours in
    ``area`` (a canonical 5-digit code): for inserting many at once, or what the publisher
    would refuse, in one transaction through the store's own query function."""
    now = datetime.now(UTC).replace(microsecond=0)
    document = json.dumps(to_json(alert), ensure_ascii=False)
    template = NewAlert(
        id="",
        organization_id=organization_id,
        sender=alert.sender or "",
        identifier="",
        sent=now,
        sent_text=alert.sent or "",
        status=alert.status or "Actual",
        msg_type=alert.msg_type or "Alert",
        scope=alert.scope or "Public",
        effective=now - timedelta(minutes=1),
        expires=now + timedelta(hours=6),
        urgency="Immediate",
        severity="Moderate",
        certainty="Likely",
        content_hash=hashlib.sha256(document.encode()).hexdigest(),
        cap_xml=b"<alert/>",
        cap_json=document,
        received_at=now,
        area_codes=(area,),
        references=(),
    )
    return [
        replace(template, id=new_id(), identifier=f"{alert.identifier}-{n}") for n in range(count)
    ]


# A shelter of 千代田区 (131016) as the JP API takes it; add the "state" (open, full, closed).
KANDA_SCHOOL = {
    "municipality": "131016",
    "id": "kanda-es",
    "name": "神田小学校",
    "name_en": "Kanda Elementary School",
    "address": "千代田区神田1-1",
    "lat": 35.694,
    "lon": 139.771,
    "capacity": 300,
}
