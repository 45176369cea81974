"""HTML pages: Jinja2 with autoescaping everywhere, strict security headers, two languages.

Every value a page shows goes through Jinja's autoescape, so HTML in alert text is shown as
text, never run. Pages load scripts and styles from this hub only (Content-Security-Policy),
so no inline script exists to be injected into; data for scripts travels in
``<script type="application/json">`` blocks, which are never executed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from alertcommons import __version__
from alertcommons.geo.boundaries import CREDIT, CREDIT_EN
from alertcommons.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
JST = timezone(timedelta(hours=9))
LANGUAGES = ("ja", "en")

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Words the pages use, in Japanese and English.
WORDS: dict[str, tuple[str, str]] = {
    "site": ("Alert Commons 防災情報", "Alert Commons public warnings"),
    "skip": ("本文へ移動", "Skip to content"),
    "active_alerts": ("発表中の防災情報", "Alerts in force"),
    "no_alerts": ("現在、発表中の防災情報はありません。", "No alerts are in force now."),
    "map": ("地図", "Map"),
    "list": ("一覧", "List"),
    "map_note": (
        "地図は対象地域の位置を示します。内容は一覧をご覧ください。",
        "The map shows where alerts apply; the list above has every alert.",
    ),
    "map_unavailable": ("地図を表示できません。", "The map cannot be shown."),
    "issued_by": ("発信元", "Issued by"),
    "claimed_name": (
        "情報内の発信者名（未確認）",
        "Sender name stated in the alert (not verified)",
    ),
    "sent": ("発表日時", "Issued"),
    "expires": ("有効期限", "Expires"),
    "area": ("対象地域", "Area"),
    "what_to_do": ("とるべき行動", "What to do"),
    "details": ("詳細", "Details"),
    "history": ("経緯", "History"),
    "earlier": ("この情報が更新・取り消した情報", "Earlier messages this one updates or cancels"),
    "later": ("この情報を更新・取り消した情報", "Later messages that update or cancel this one"),
    "none": ("なし", "None"),
    "verify": ("この情報は本物ですか", "Is this message real?"),
    "sig_valid": (
        "電子署名を確認しました。この情報は発信後に改ざんされていません。",
        "The digital signature checks out: this message has not been altered since it was sent.",
    ),
    "sig_invalid": (
        "電子署名を確認できません。この情報を信用しないでください。",
        "The digital signature does not check out. Do not trust this message.",
    ),
    "authority": ("発信した機関", "Issuing authority"),
    "signed_by": ("署名", "Signed by"),
    "permalink": ("この情報の恒久的なアドレス", "Permanent address of this message"),
    "qr": ("このページのQRコード", "QR code of this page"),
    "how_to_check": (
        "署名付きの原文（CAP）と公開鍵で、誰でも独自に確認できます:",
        "Anyone can check independently with the signed original (CAP) and the public key:",
    ),
    "signed_cap": ("署名付き原文 (CAP XML)", "Signed original (CAP XML)"),
    "public_key": ("ハブの公開鍵証明書", "The hub's public key certificate"),
    "cancelled": ("この情報は取り消されました。", "This message has been cancelled."),
    "lifted": ("この情報は解除されました。", "This order has been lifted."),
    "closed": ("この避難所は閉鎖されました。", "This shelter has closed."),
    "dissolved": ("この本部は廃止されました。", "This headquarters has been dissolved."),
    "superseded": ("この情報は更新されています。", "This message has been updated."),
    "expired": ("この情報は有効期限を過ぎています。", "This message has expired."),
    "exercise": ("訓練です。", "This is an exercise."),
    "test": ("テストです。", "This is a test."),
    "language": ("English", "日本語"),
    "contrast": ("高コントラスト", "High contrast"),
    "bigger": ("文字を大きく", "Larger text"),
    "severity": ("重大度", "Severity"),
    "by_prefecture": ("都道府県別", "By prefecture"),
    "other_areas": ("その他の地域", "Other areas"),
    "whole_prefecture": ("全域", "Whole prefecture"),
    "all_japan": ("全国", "All of Japan"),
    "open_alert": ("詳しく見る", "Read the message"),
    "recently_lifted": ("解除された情報（24時間以内）", "Lifted in the last 24 hours"),
    "orders": ("発令中の避難情報", "Evacuation orders in force"),
    "shelter_state": ("避難所の状況", "Shelter"),
    "capacity": ("収容人数", "Capacity"),
    "address": ("所在地", "Address"),
}

SEVERITY_WORDS = {
    "Extreme": ("極めて重大", "Extreme"),
    "Severe": ("重大", "Severe"),
    "Moderate": ("注意", "Moderate"),
    "Minor": ("軽微", "Minor"),
    "Unknown": ("不明", "Unknown"),
}


MSG_TYPE_WORDS = {
    "Alert": ("発表", "Issued"),
    "Update": ("更新", "Updated"),
    "Cancel": ("取り消し", "Cancelled"),
}


# The warning levels (警戒レベル) in their official colours, each with its words: the colour is
# never alone. Text colour on each meets WCAG AA (4.5:1): white on black and purple, black on
# red and yellow. The CSS classes ``level-N`` (app.css) carry the same colours.
LEVEL_COLOURS = {5: "#0c000c", 4: "#aa00aa", 3: "#ff2800", 2: "#f2e700"}
LEVEL_WORDS = {
    5: ("警戒レベル5 緊急安全確保", "Level 5: Emergency safety measures"),
    4: ("警戒レベル4 避難指示", "Level 4: Evacuation order"),
    3: ("警戒レベル3 高齢者等避難", "Level 3: Elderly and others evacuate"),
    2: ("警戒レベル2 避難行動の確認", "Level 2: Check how to evacuate"),
}

# A shelter is open, full or closed, and holds so many people: a state, never a severity.
SHELTER_WORDS = {
    "open": ("開設", "Open"),
    "full": ("満員", "Full"),
    "closed": ("閉鎖", "Closed"),
}
LIFTED_WORDS = ("解除", "Lifted")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def level_words(level: int | None, lang: str) -> str:
    words = LEVEL_WORDS.get(level or 0)
    return "" if words is None else words[0 if lang == "ja" else 1]


def shelter_words(state: str | None, lang: str) -> str:
    words = SHELTER_WORDS.get(state or "", (state or "", state or ""))
    return words[0 if lang == "ja" else 1]


def capacity_words(capacity: int | None, lang: str) -> str:
    if capacity is None:
        return ""
    return f"収容人数 {capacity:,}人" if lang == "ja" else f"Capacity {capacity:,} people"


def when(value: datetime | str | None, lang: str) -> str:
    """A time as people write it, in Japan's time: 11月30日 2時40分 in Japanese,
    30 Nov 2:40 (JST) in English. ``jst`` keeps the full, year-and-offset form."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(JST)
    if lang == "ja":
        return f"{local.month}月{local.day}日 {local.hour}時{local.minute:02d}分"
    return f"{local.day} {_MONTHS[local.month - 1]} {local.hour}:{local.minute:02d} (JST)"


def iso_time(value: datetime | str | None) -> str:
    """The same moment, machine-readable, for ``<time datetime>``."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(JST).isoformat(timespec="minutes")


def language_of(request: Request) -> str:
    wanted = request.query_params.get("lang", "ja")
    return wanted if wanted in LANGUAGES else "ja"


def jst(value: datetime | str | None) -> str:
    """A time as people in Japan read it, with its offset: 2026-11-26 16:49 (UTC+09:00)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M (UTC+09:00)")


def as_json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block; ``<`` escaped so the block
    cannot be closed from inside."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
    return Markup(text.replace(">", "\\u003e").replace("&", "\\u0026"))


def page(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = dict(context)
    lang = context.pop("lang", None) or language_of(request)
    other = "en" if lang == "ja" else "ja"

    def t(key: str) -> str:
        words = WORDS[key]
        return words[0] if lang == "ja" else words[1]

    html = _env.get_template(template).render(
        request=request,
        lang=lang,
        other_lang=other,
        t=t,
        jst=jst,
        when=lambda v: when(v, lang),
        iso_time=iso_time,
        level_words=lambda n: level_words(n, lang),
        shelter_words=lambda s: shelter_words(s, lang),
        capacity_words=lambda c: capacity_words(c, lang),
        lifted_word=LIFTED_WORDS[0 if lang == "ja" else 1],
        boundaries_credit=(CREDIT, CREDIT_EN),
        as_json=as_json,
        severity_words=lambda s: SEVERITY_WORDS.get(s or "Unknown", SEVERITY_WORDS["Unknown"])[
            0 if lang == "ja" else 1
        ],
        msg_type_words=lambda m: MSG_TYPE_WORDS.get(m, (m, m))[0 if lang == "ja" else 1],
        version=__version__,
        tiles={"url": settings.map_tiles_url, "attribution": settings.map_tiles_attribution},
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    for name, value in security_headers(settings).items():
        response.headers[name] = value
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def security_headers(settings: Settings) -> dict[str, str]:
    images = "'self' data:"
    if settings.map_tiles_url:
        parts = urlsplit(settings.map_tiles_url.replace("{s}", "a"))
        origin = f"{parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
        images += f" {origin}"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; connect-src 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }
