"""Building CAP alerts for tests, in the Japan profile."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from alertcommons.cap import Alert, Area, Info, ValuePair, to_xml
from alertcommons.cap.values import format_datetime

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
