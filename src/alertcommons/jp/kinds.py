"""What kind of message an alert is, in words a reader of its language uses.

CAP says ``Alert``, ``Update`` or ``Cancel``; a resident reads 発表, 更新, 解除 or 取消. A
Cancel is one of two things: the lift of an order that was right (解除 — the danger has
passed), or the withdrawal of a message that was wrong (取消). A Cancel is a lift when it says
so: ``responseType`` AllClear, or 解除 in its event (the JMA's and the municipalities' way);
an Update that says so is a lift too. The public pages and the Atom feeds both ask here, so
they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from alertcommons.jp.phrases import EASY, EN, JA, KO, LANGUAGES, PT, VI, ZH_CN, ZH_TW

KINDS = ("issued", "updated", "lifted", "cancelled")

# One word per kind and language, as a headline would carry it.
WORDS: dict[str, dict[str, str]] = {
    "issued": {
        JA: "発表",
        EN: "Issued",
        ZH_CN: "发布",
        ZH_TW: "發布",
        KO: "발표",
        PT: "Emitido",
        VI: "Ban hành",
        EASY: "おしらせ",
    },
    "updated": {
        JA: "更新",
        EN: "Updated",
        ZH_CN: "更新",
        ZH_TW: "更新",
        KO: "갱신",
        PT: "Atualizado",
        VI: "Cập nhật",
        EASY: "あたらしい おしらせ",
    },
    "lifted": {
        JA: "解除",
        EN: "Lifted",
        ZH_CN: "解除",
        ZH_TW: "解除",
        KO: "해제",
        PT: "Encerrado",
        VI: "Dỡ bỏ",
        EASY: "おわり",
    },
    "cancelled": {
        JA: "取消",
        EN: "Cancelled",
        ZH_CN: "撤销",
        ZH_TW: "撤銷",
        KO: "취소",
        PT: "Cancelado",
        VI: "Hủy bỏ",
        EASY: "まちがい",
    },
}
# Languages whose headlines put the kind in 【】 brackets, as Japanese news and the JMA do.
_BRACKETS = frozenset({JA, ZH_CN, ZH_TW, EASY})


def is_lift(document: dict[str, Any]) -> bool:
    """Does this message lift an order (responseType AllClear, or 解除 in its event), rather
    than withdraw a message that was wrong?"""
    for info in document.get("info") or []:
        responses = info.get("responseType") or []
        if "AllClear" in responses or "解除" in str(info.get("event") or ""):
            return True
    return False


def kind_of(document: dict[str, Any]) -> str | None:
    """``issued``, ``updated``, ``lifted`` or ``cancelled``; None for an Ack or an Error."""
    msg_type = document.get("msgType")
    if msg_type == "Alert":
        return "issued"
    if msg_type == "Update":
        return "lifted" if is_lift(document) else "updated"
    if msg_type == "Cancel":
        return "lifted" if is_lift(document) else "cancelled"
    return None


def language_of(tag: str | None) -> str:
    """The hub language closest to a CAP ``language`` tag (CAP's default is en-US)."""
    tag = (tag or EN).strip()
    for language in LANGUAGES:
        if tag.lower() == language.lower():
            return language
    primary = tag.split("-")[0].lower()
    if primary == "zh":
        traditional = any(part in tag.lower() for part in ("-tw", "-hk", "-mo", "hant"))
        return ZH_TW if traditional else ZH_CN
    for language in LANGUAGES:
        if language.split("-")[0].lower() == primary and language != EASY:
            return language
    return EN


def titled(headline: str, kind: str | None, language: str) -> str:
    """``headline`` with its kind in front, in ``language``: 【解除】… or "Lifted: …"."""
    if kind is None:
        return headline
    word = WORDS[kind][language]
    if language in _BRACKETS:
        marked = f"【{word}】"
        return headline if headline.startswith(marked) else f"{marked}{headline}"
    prefix = f"{word}: "
    return headline if headline.lower().startswith(prefix.lower()) else f"{prefix}{headline}"
