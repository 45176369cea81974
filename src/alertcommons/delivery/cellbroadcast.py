"""Cell-broadcast text: an alert as carriers' emergency alert mail carries it (緊急速報メール).

3GPP TS 23.041 gives a page 82 octets: 93 characters of the GSM 7-bit default alphabet
(a character of its extension table takes two), or 41 UCS-2 code units; a message is at most
15 pages. The short form (the 90-character message of the public-warning profiles) is what a
handset shows first. A text that does not fit is shortened by whole pieces, least important
first — the list of areas (the cells already are the area), then the description's sentences
from the end, then the instruction's — and only as a last resort word by word: a word, a
number or a place name is never cut. Pages break between those pieces too; a handset joins
the pages of one message again, so where a Japanese clause is longer than a page it breaks
after a particle (区域等では|命に), never inside a number.

Pure functions over an alert's CAP JSON; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"  # each costs the escape septet plus its own
GSM7_PAGE = 93
UCS2_PAGE = 41
MAX_PAGES = 15
SHORT_LENGTH = 90

_GSM7_BASIC = frozenset(GSM7_BASIC)
_GSM7_EXTENSION = frozenset(GSM7_EXTENSION)

# Where a line of text may break: after white space, and after Japanese (and Chinese)
# punctuation that ends a clause or a list item. Nothing else — so 千代田区, 1,000 and
# "evacuation" always stay whole.
_PIECE = re.compile(r"[^\s。、，．！？：；・）」』】]*(?:[。、，．！？：；・）」』】]+\s*|\s+|$)")
_SENTENCE = re.compile(r"(?:[^。！？.!?]|[.!?](?![\s.!?]|$))*(?:[。！？]+|[.!?]+|$)\s*")
_AREA_LABEL = {"ja": "対象地域：", "zh": "地区：", "ko": "지역: "}


@dataclass(frozen=True, slots=True)
class Encoding:
    name: str
    page: int  # units a page holds

    def cost(self, text: str) -> int:
        if self.name == "GSM-7":
            return sum(2 if c in _GSM7_EXTENSION else 1 for c in text)
        return len(text.encode("utf-16-le")) // 2


GSM7 = Encoding("GSM-7", GSM7_PAGE)
UCS2 = Encoding("UCS-2", UCS2_PAGE)


def encoding_for(text: str) -> Encoding:
    """GSM-7 when every character is in its alphabet (more text a page), else UCS-2."""
    return GSM7 if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text) else UCS2


def pieces(text: str) -> list[str]:
    """The text as the smallest pieces it may break between."""
    return [p for p in _PIECE.findall(text) if p]


def sentences(text: str | None) -> list[str]:
    return [s for s in _SENTENCE.findall(text or "") if s.strip()]


def paginate(text: str, encoding: Encoding) -> list[str]:
    """``text`` in pages of ``encoding``, breaking only between pieces. A piece longer than
    a page (no space or punctuation in a page's length) is split between characters, but
    never between two digits."""
    pages: list[str] = []
    current = ""
    for piece in pieces(text):
        while encoding.cost(piece) > encoding.page:
            head, piece = _split_long(piece, encoding.page - encoding.cost(current), encoding)
            if head:
                pages.append(current + head)
                current = ""
            elif current:
                pages.append(current)
                current = ""
        if encoding.cost(current + piece) > encoding.page:
            pages.append(current)
            current = ""
        current += piece
    if current or not pages:
        pages.append(current)
    return pages


def _split_long(piece: str, room: int, encoding: Encoding) -> tuple[str, str]:
    # Best: where a particle or an inflection (hiragana) ends and the next word begins, as
    # after 区域等では|命に — but not before a municipality suffix (さいたま|市 is one name).
    # Else anywhere but between two digits.
    best = fallback = limit = 0
    for index in range(1, len(piece)):
        if encoding.cost(piece[:index]) > room:
            break
        limit = index
        before, after = piece[index - 1], piece[index]
        if not (before.isdigit() and after.isdigit()):
            fallback = index
        if _hiragana(before) and not _hiragana(after) and after not in _NAME_SUFFIXES:
            best = index
    # A run of digits longer than a page has no other place to break.
    cut = best or fallback or (limit if room == encoding.page else 0)
    return piece[:cut], piece[cut:]


_NAME_SUFFIXES = frozenset("都道府県市区町村郡島")


def _hiragana(character: str) -> bool:
    return "\u3041" <= character <= "\u309f"


@dataclass(frozen=True, slots=True)
class Fitted:
    text: str
    shortened: bool


def fit(parts: list[list[str]], limit: int, cost: Any, ellipsis: str) -> Fitted:
    """Join ``parts`` (each a list of sentences, most important part first) into at most
    ``limit`` units: drop whole sentences from the end, then whole pieces of the first
    sentence, marking a cut with ``ellipsis``."""
    kept = [list(part) for part in parts]

    def joined() -> str:
        return "\n".join("".join(part).strip() for part in kept if part).strip()

    if cost(joined()) <= limit:
        return Fitted(joined(), False)
    while sum(len(part) for part in kept) > 1:
        last = max(i for i, part in enumerate(kept) if part)
        kept[last].pop()
        if cost(joined() + ellipsis) <= limit:
            return Fitted(joined() + ellipsis, True)
    words = pieces(joined())
    while words and cost("".join(words).rstrip() + ellipsis) > limit:
        words.pop()
    return Fitted("".join(words).rstrip() + ellipsis, True)


def _language_key(language: str) -> str:
    return language.split("-", 1)[0].lower()


def _areas_line(info: dict[str, Any]) -> str:
    names = [str(a.get("areaDesc") or "") for a in info.get("area", []) if a.get("areaDesc")]
    if not names:
        return ""
    key = _language_key(str(info.get("language") or "en-US"))
    separator = "、" if key in ("ja", "zh") else "; "
    return _AREA_LABEL.get(key, "Areas: ") + separator.join(dict.fromkeys(names))


def _parts(info: dict[str, Any]) -> list[list[str]]:
    headline = str(info.get("headline") or info.get("event") or "")
    return [
        [headline],
        sentences(info.get("instruction")),
        sentences(info.get("description")),
        [_areas_line(info)] if info.get("area") else [],
    ]


def for_info(info: dict[str, Any]) -> dict[str, Any]:
    """One ``info`` block as cell-broadcast text: the full form in pages and the short form."""
    parts = _parts(info)
    whole = "\n".join("".join(p) for p in parts if p)
    encoding = encoding_for(whole)
    ellipsis = "..." if encoding is GSM7 else "…"
    full = fit(parts, encoding.page * MAX_PAGES, encoding.cost, ellipsis)
    # Pages are filled greedily between pieces, so the fitted text may still need one page
    # more than its units suggest: shorten until the pages fit as well.
    limit = encoding.page * MAX_PAGES
    while len(paginate(full.text, encoding)) > MAX_PAGES:
        limit -= encoding.page // 2
        full = fit(parts, limit, encoding.cost, ellipsis)
    short = fit(parts[:3], SHORT_LENGTH, len, ellipsis)
    pages = paginate(full.text, encoding)
    return {
        "text": full.text,
        "encoding": encoding.name,
        "pages": len(pages),
        "shortened": full.shortened,
        "page_texts": pages,
        "short": {"text": short.text, "shortened": short.shortened},
    }


def for_alert(document: dict[str, Any], languages: Iterable[str] | None = None) -> dict[str, Any]:
    """Each language of an alert (its CAP JSON) as cell-broadcast text, first ``info`` of a
    language winning (the most severe, where a report has several grades)."""
    wanted = set(languages) if languages is not None else None
    found: dict[str, Any] = {}
    for info in document.get("info", []) or []:
        language = str(info.get("language") or "en-US")
        if language in found or (wanted is not None and language not in wanted):
            continue
        found[language] = for_info(info)
    return found
