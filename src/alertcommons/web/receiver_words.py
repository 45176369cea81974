"""Words of the receiver console: the choices its forms offer, and a filter said in words
(Japanese and English), so a receiver reads what it will get without reading JSON."""

from __future__ import annotations

from typing import Any

from alertcommons.jp.codes import CodeError, name_of
from alertcommons.jp.romaji import place as romaji_name

# (value, Japanese, English)
FORM_CHANNELS = (
    ("webhook", "Webhook（HTTPS）", "webhook"),
    ("mqtt", "MQTT", "MQTT"),
    ("email", "電子メール", "email"),
)
SEVERITY_CHOICES = (
    ("Extreme", "極めて重大", "Extreme"),
    ("Severe", "重大", "Severe"),
    ("Moderate", "中程度", "Moderate"),
    ("Minor", "軽微", "Minor"),
)
URGENCY_CHOICES = (
    ("Immediate", "直ちに", "Immediate"),
    ("Expected", "まもなく", "Expected"),
    ("Future", "今後", "Future"),
    ("Past", "過去", "Past"),
)
STATUS_CHOICES = (
    ("Actual", "実際の情報", "Actual"),
    ("Exercise", "訓練", "Exercise"),
    ("Test", "試験", "Test"),
    ("System", "システム", "System"),
)
# An endpoint's settings, as the page names them: (Japanese, English).
SETTING_WORDS = {
    "url": ("送り先URL", "URL"),
    "format": ("形式", "Format"),
    "secret": ("署名用の秘密鍵", "Signing secret"),
    "timeout_seconds": ("応答の待ち時間（秒）", "Timeout (s)"),
    "host": ("ブローカー", "Broker"),
    "port": ("ポート", "Port"),
    "topic_prefix": ("トピックの接頭辞", "Topic prefix"),
    "to": ("宛先", "To"),
    "smtp_host": ("SMTPサーバー", "SMTP host"),
    "smtp_port": ("SMTPポート", "SMTP port"),
    "from": ("差出人", "From"),
    "username": ("ユーザー名", "Username"),
    "password": ("パスワード", "Password"),
    "starttls": ("STARTTLS", "STARTTLS"),
    "controller": ("制御装置", "Controller"),
}
# A delivery's state: (Japanese, English); static/receivers.js holds the same words.
STATE_WORDS = {
    "pending": ("送信待ち", "pending"),
    "sending": ("送信中", "sending"),
    "delivered": ("配信済", "delivered"),
    "acknowledged": ("受信確認", "acknowledged"),
    "failed": ("失敗", "failed"),
}
CERTAINTY_CHOICES = (
    ("Observed", "観測済み", "Observed"),
    ("Likely", "可能性が高い", "Likely"),
    ("Possible", "可能性あり", "Possible"),
    ("Unlikely", "可能性は低い", "Unlikely"),
)


def _named(choices: tuple[tuple[str, str, str], ...], value: str, lang: str) -> str:
    for key, japanese, english in choices:
        if key == value:
            return japanese if lang == "ja" else english
    return value


def _area(code: str, lang: str) -> str:
    try:
        return f"{name_of(code) if lang == 'ja' else romaji_name(code)} ({code})"
    except (CodeError, KeyError):
        return code


def filter_summary(document: dict[str, Any], lang: str = "ja") -> list[str]:
    """The filter as short phrases, one per condition, in ``lang``."""
    ja = lang == "ja"
    sep = "、" if ja else ", "
    phrases = []
    areas = [_area(code, lang) for code in document.get("areas", [])]
    if areas:
        phrases.append(("地域: " if ja else "Areas: ") + sep.join(areas))
    if document.get("jma_areas"):
        jma = sep.join(document["jma_areas"])
        phrases.append(("気象庁の区域: " if ja else "JMA areas: ") + jma)
    if document.get("polygon"):
        phrases.append("多角形の範囲" if ja else "Inside a polygon")
    if document.get("circle"):
        circle = document["circle"]
        phrases.append(f"円の範囲: {circle} km" if ja else f"Inside a circle: {circle} km")
    if not (areas or document.get("jma_areas") or "polygon" in document or "circle" in document):
        phrases.append("全国" if ja else "Anywhere")
    for key, choices, japanese, english in (
        ("min_severity", SEVERITY_CHOICES, "深刻度", "Severity"),
        ("min_urgency", URGENCY_CHOICES, "緊急度", "Urgency"),
        ("min_certainty", CERTAINTY_CHOICES, "確度", "Certainty"),
    ):
        if document.get(key):
            value = _named(choices, document[key], lang)
            phrases.append(
                f"{japanese}「{value}」以上" if ja else f"{english} {document[key]} or higher"
            )
    if document.get("events"):
        phrases.append(("種別: " if ja else "Events: ") + sep.join(document["events"]))
    for key, japanese, english in (
        ("categories", "分類", "Categories"),
        ("event_codes", "種別コード", "Event codes"),
        ("languages", "言語", "Languages"),
    ):
        if document.get(key):
            phrases.append(f"{japanese if ja else english}: " + ", ".join(document[key]))
    statuses = document.get("statuses", ["Actual"])
    named = sep.join(_named(STATUS_CHOICES, s, lang) for s in statuses)
    phrases.append(("状態: " if ja else "Status: ") + named)
    return phrases
