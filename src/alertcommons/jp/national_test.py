"""Nationwide test transmission (全国瞬時警報システム 全国一斉情報伝達試験).

Like J-Alert's periodic tests: a ``status=Test`` message 「これは、Jアラートのテストです。」
goes to every receiver endpoint that takes test messages (``"statuses": ["Test", …]`` in its
filter), and the report says who got it, who acknowledged (activated), and who did not.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from alertcommons.cap.model import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.jp.codes import registry, with_check_digit
from alertcommons.jp.evacuation import JST

TEST_ORG_ID = "national-test"
TEST_SENDER = "jalert-test.alertcommons"
TEST_TEXT_JA = "これは、Jアラートのテストです。"
TEST_TEXT_EN = "This is a test of J-Alert."


def test_message(now: datetime | None = None, minutes: int = 60) -> Alert:
    moment = (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    expires = format_datetime(moment + timedelta(minutes=minutes))
    prefectures = [
        ValuePair("JIS X 0402", with_check_digit(code + "000"))
        for code in sorted(registry().prefectures)
    ]

    def info(language: str, event: str, text: str) -> Info:
        return Info(
            language=language,
            categories=["Safety"],
            event=event,
            urgency="Immediate",
            severity="Minor",
            certainty="Observed",
            event_codes=[ValuePair("JP:national-test", "1")],
            effective=sent,
            expires=expires,
            sender_name="Alert Commons 全国一斉情報伝達試験",
            headline=text,
            description=text,
            areas=[Area(area_desc="全国", geocodes=list(prefectures))],
        )

    return Alert(
        identifier=f"national-test-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
        sender=TEST_SENDER,
        sent=sent,
        status="Test",
        msg_type="Alert",
        scope="Public",
        infos=[
            info("ja-JP", "全国一斉情報伝達試験", TEST_TEXT_JA),
            info("en-US", "Nationwide test transmission", TEST_TEXT_EN),
        ],
    )
