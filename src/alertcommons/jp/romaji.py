"""Place names in romaji, for messages in languages not written in Japanese script.

The reading comes from the code registry's kana (never guessed from the kanji: 郡山 is
こおりやま, and a wrong reading in a warning sends people to the wrong place); pykakasi
turns it into Hepburn, and the place-name convention of road signs drops the long vowels
(とうきょう → Tokyo, おおさか → Osaka). The municipality's kind stays as a suffix in the
Japanese manner (Chiyoda-ku, Sapporo-shi, Hakone-machi), so the name is the one on signs.
"""

from __future__ import annotations

from functools import cache

from alertcommons.jp.codes import normalize, registry

# (kanji suffix, its reading, the romaji suffix), longest reading first per suffix.
_SUFFIXES = (
    ("市", "し", "shi"),
    ("区", "く", "ku"),
    ("町", "ちょう", "cho"),
    ("町", "まち", "machi"),
    ("村", "むら", "mura"),
    ("村", "そん", "son"),
)
_LONG_VOWELS = (("ou", "o"), ("oo", "o"), ("uu", "u"))


@cache
def _kakasi() -> object:
    import pykakasi  # loaded on first use: the dictionary costs memory

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


def hepburn(kana: str) -> str:
    """Kana in Hepburn romaji, long vowels unmarked, as place names are written."""
    converter = _kakasi()
    parts = converter.convert(kana)  # type: ignore[attr-defined]
    text = "".join(str(part["hepburn"]) for part in parts)
    for long, short in _LONG_VOWELS:
        text = text.replace(long, short)
    return text


def is_kana(text: str) -> bool:
    return bool(text) and all("\u3041" <= c <= "\u30ff" or c in "ー・ " for c in text)


def _with_suffix(name: str, kana: str) -> str:
    for kanji, reading, suffix in _SUFFIXES:
        if name.endswith(kanji) and kana.endswith(reading) and len(kana) > len(reading):
            return f"{hepburn(kana[: -len(reading)]).capitalize()}-{suffix}"
    return hepburn(kana).capitalize()


@cache
def place(code: str) -> str:
    """A local-government code's name in romaji: ``Chiyoda-ku, Tokyo``,
    ``Kita-ku, Osaka-shi, Osaka``, ``Hokkaido``."""
    canonical = normalize(code)
    reg = registry()
    if len(canonical) == 2:
        return reg.prefectures[canonical].name_en
    municipality = reg.municipalities[canonical]
    prefecture = reg.prefectures[municipality.prefecture].name_en
    parent = reg.municipalities.get(municipality.parent or "")
    if parent and municipality.kana.startswith(parent.kana):
        ward = _with_suffix(municipality.name, municipality.kana[len(parent.kana) :])
        return f"{ward}, {_with_suffix(parent.name, parent.kana)}, {prefecture}"
    return f"{_with_suffix(municipality.name, municipality.kana)}, {prefecture}"


def kana_of(code: str) -> str:
    """The reading of a code's name, for Easy Japanese (千代田区（ちよだく）)."""
    canonical = normalize(code)
    reg = registry()
    if len(canonical) == 2:
        return reg.prefectures[canonical].kana
    municipality = reg.municipalities[canonical]
    return reg.prefectures[municipality.prefecture].kana + municipality.kana
