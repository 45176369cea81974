"""Japanese local-government codes (全国地方公共団体コード, JIS X 0401 / JIS X 0402).

* 2 digits: a prefecture (01 北海道 … 47 沖縄県).
* 5 digits: a municipality (prefecture + 3 digits), e.g. 13101 千代田区.
* 6 digits: the 5-digit code with a check digit, e.g. 131016. Check digit: weights 6,5,4,3,2
  over the five digits, check = (11 - sum mod 11) mod 10.

The registry of names and centroids comes from the ``japancode`` package's data, loaded once
on first use; nothing is downloaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from alertcommons.errors import AlertCommonsError

_WEIGHTS = (6, 5, 4, 3, 2)


class CodeError(AlertCommonsError):
    """A code that is malformed, has a wrong check digit, or names nothing."""


def check_digit(five: str) -> int:
    total = sum(int(digit) * weight for digit, weight in zip(five, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def with_check_digit(five: str) -> str:
    return five + str(check_digit(five))


@dataclass(frozen=True, slots=True)
class Prefecture:
    code: str  # 2 digits
    name: str
    kana: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str  # 5 digits
    name: str
    kana: str
    prefecture: str  # 2 digits
    lat: float
    lon: float
    parent: str | None = None  # a designated city's ward belongs to its city (大阪市北区 → 大阪市)

    @property
    def code6(self) -> str:
        return with_check_digit(self.code)


@dataclass(frozen=True, slots=True)
class Registry:
    prefectures: dict[str, Prefecture]
    municipalities: dict[str, Municipality]


@cache
def registry() -> Registry:
    data = resources.files("japancode").joinpath("data")
    prefectures = {}
    for row in json.loads(data.joinpath("prefectures.json").read_text("utf-8")):
        code = str(row["lgcode"]).zfill(6)[:2]
        prefectures[code] = Prefecture(code, row["pref"], row["prefkana"], row["pref_en"])
    rows = json.loads(data.joinpath("municipalities.json").read_text("utf-8"))
    by_name = {(str(row["lgcode"]).zfill(6)[:2], row["city"]): row for row in rows}
    municipalities = {}
    for row in rows:
        code = str(row["lgcode"]).zfill(6)[:5]
        city, _, ward = row["city"].partition(" ")
        parent_row = by_name.get((code[:2], city)) if ward else None
        municipalities[code] = Municipality(
            code,
            row["city"].replace(" ", ""),
            row["citykana"].replace(" ", ""),
            code[:2],
            float(row["lat"]),
            float(row["lng"]),
            str(parent_row["lgcode"]).zfill(6)[:5] if parent_row else None,
        )
    return Registry(prefectures, municipalities)


def parent_of(code: str) -> str | None:
    """The designated city a ward belongs to, if ``code`` (5 digits) is a ward."""
    municipality = registry().municipalities.get(code)
    return municipality.parent if municipality else None


def normalize(code: str) -> str:
    """Return the canonical form of a local-government code: 2 digits or 5 digits.

    Raises :class:`CodeError` saying exactly what is wrong.
    """
    text = code.strip()
    if not text.isascii() or not text.isdigit():
        raise CodeError(f"'{code}' is not a local-government code: digits only")
    if len(text) == 2:
        if not 1 <= int(text) <= 47:
            raise CodeError(f"'{code}' is not a prefecture code (01-47)")
        return text
    if len(text) == 6:
        expected = check_digit(text[:5])
        if int(text[5]) != expected:
            raise CodeError(f"'{code}' has check digit {text[5]}, but {text[:5]} needs {expected}")
        text = text[:5]
    elif len(text) != 5:
        raise CodeError(f"'{code}' has {len(text)} digits; a code has 2, 5 or 6")
    if not 1 <= int(text[:2]) <= 47:
        raise CodeError(f"'{code}' does not start with a prefecture code (01-47)")
    if text.endswith("000"):
        return text[:2]  # 13000 (6-digit 130001) is the prefecture itself
    if text not in registry().municipalities:
        raise CodeError(f"'{code}' is well-formed but names no municipality in the registry")
    return text


def name_of(code: str) -> str:
    canonical = normalize(code)
    reg = registry()
    if len(canonical) == 2:
        return reg.prefectures[canonical].name
    municipality = reg.municipalities[canonical]
    return f"{reg.prefectures[municipality.prefecture].name}{municipality.name}"
