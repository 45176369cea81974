"""The console's language: Japanese or English, one at a time, chosen by ``?lang=`` and
remembered in a cookie; and errors said in that language.

Errors come from the hub in English (the API's problem ``detail``). The console's own form
checks carry a Japanese twin (``detail_ja``); the hub's common refusals are translated here by
pattern, and anything else is introduced in Japanese with the original attached, so a
Japanese page never shows a bare English sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from alertcommons.problems import ProblemError

COOKIE = "ac_console_lang"
LANGUAGES = ("ja", "en")

FIELDS = {
    "municipality": "市区町村",
    "level": "警戒レベル",
    "hazard": "災害の種類",
    "status": "種別（実際・訓練・テスト）",
    "event": "事象",
    "headline_ja": "見出し（日本語）",
    "headline_en": "見出し（英語）",
    "shelter_id": "避難所ID",
    "name": "名称",
    "address": "住所",
    "state": "状態",
    "areas": "対象地域コード",
    "hours": "有効時間",
    "lat": "緯度",
    "lon": "経度",
    "capacity": "収容人数",
    "kind": "種類",
    "lift": "解除する対象",
    "category": "分類",
    "urgency": "緊急度",
    "severity": "重大度",
    "certainty": "確度",
}


FIELDS_EN = {
    "level": "alert level",
    "status": "status (Actual, Exercise or Test)",
    "hazard": "hazard",
    "municipality": "municipality",
    "state": "state",
    "kind": "kind",
}

# The console's own wording in English for the form checks that read like API messages.
_ENGLISH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"'(\w+)' must be one of .*"),
        lambda m: f"Choose the {FIELDS_EN.get(m[1], m[1])}.",
    ),
    (re.compile(r"'(\w+)' is required"), lambda m: f"Fill in the {FIELDS_EN.get(m[1], m[1])}."),
]


def _field(name: str) -> str:
    base = re.sub(r"_(\d+)$", "", name)
    number = name[len(base) + 1 :]
    label = {"district": "地区名", "polygon": "範囲"}.get(base) or FIELDS.get(base, name)
    return f"{label}{number}"


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"'(\w+)' is required"), lambda m: f"「{_field(m[1])}」を入力してください。"),
    (re.compile(r"'(\w+)' must be one of .*"), lambda m: f"「{_field(m[1])}」を選んでください。"),
    (
        re.compile(r"'(\w+)' must be a number"),
        lambda m: f"「{_field(m[1])}」は数値で入力してください。",
    ),
    (
        re.compile(r"'(\w+)' must be between (\S+) and (\S+)"),
        lambda m: f"「{_field(m[1])}」は{m[2]}から{m[3]}の間で入力してください。",
    ),
    (
        re.compile(r"'(\w+)' is longer than (\d+) characters"),
        lambda m: f"「{_field(m[1])}」は{m[2]}文字以内で入力してください。",
    ),
    (
        re.compile(r"no evacuation information of yours is in force for (.+)"),
        lambda m: f"{m[1]} に、この機関が発令中の避難情報はありません。",
    ),
    (
        re.compile(r"(.*)area code (\d+) is outside your jurisdiction"),
        lambda m: f"地域コード {m[2]} は管轄外です。",
    ),
    (
        re.compile(r".*outside your jurisdiction.*"),
        lambda m: "管轄外の地域が含まれています。",
    ),
]


def translate(detail: str, lang: str) -> str:
    """An English message from the hub, in ``lang``."""
    if lang != "ja":
        for pattern, say in _ENGLISH:
            found = pattern.fullmatch(detail.strip())
            if found:
                return say(found)
        return detail
    for pattern, say in _PATTERNS:
        found = pattern.fullmatch(detail.strip())
        if found:
            return say(found)
    if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", detail):
        return detail  # already Japanese (a refusal written bilingually, or a place name)
    return f"この内容では発信できません（詳細: {detail}）"


def error_text(exc: ProblemError, lang: str) -> str:
    if lang == "ja":
        given = exc.extensions.get("detail_ja")
        return str(given) if given else translate(exc.detail, lang)
    return str(exc.extensions.get("detail_en") or translate(exc.detail, lang))


def console_language(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(COOKIE) or "ja"
    return wanted if wanted in LANGUAGES else "ja"


def remember(request: Request, response: Response) -> None:
    """A language chosen with ``?lang=`` stays for the next pages."""
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES and request.cookies.get(COOKIE) != wanted:
        response.set_cookie(
            COOKIE, wanted, max_age=365 * 86400, samesite="lax", path="/console", httponly=True
        )


def chooser(lang: str) -> Callable[[str, str], str]:
    """``tr("日本語", "English")`` in templates."""
    return lambda ja, en: ja if lang == "ja" else en
