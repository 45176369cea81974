"""The columns of Japan's published open data of designated evacuation sites, as one table.

Two layouts are read: the デジタル庁 推奨データセット (「指定緊急避難場所一覧」 and
「指定避難所一覧」: 都道府県コード又は市区町村コード, NO, 指定緊急避難場所名 or 指定避難所名,
…_カナ, 住所, 緯度, 経度, 想定収容人数, 災害種別_洪水 … 災害種別_火山現象, 備考) and the
国土地理院 指定緊急避難場所 CSV (共通ID, NO, 施設・場所名, 住所, 洪水 … 火山現象, 緯度,
経度, 備考). GeoJSON points may use these names or plain English ones (``id``, ``name``,
``kana``, ``address``, ``capacity``, ``hazards``, ``kind``, ``note``).

A hazard cell says the site is safe for it with 1 or ○ (or another circle mark, or true);
empty, 0, a cross mark or a dash say it is not.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

KINDS = {
    "emergency_site": ("指定緊急避難場所", "designated emergency evacuation site"),
    "shelter": ("指定避難所", "designated shelter"),
}

# key → (Japanese, English, the column names that carry it without the 災害種別_ prefix)
HAZARDS: dict[str, tuple[str, str]] = {
    "flood": ("洪水", "flood"),
    "landslide": ("崖崩れ、土石流及び地滑り", "landslide, debris flow"),
    "storm_surge": ("高潮", "storm surge"),
    "earthquake": ("地震", "earthquake"),
    "tsunami": ("津波", "tsunami"),
    "large_fire": ("大規模な火事", "large fire"),
    "inland_flood": ("内水氾濫", "inland flooding"),
    "volcano": ("火山現象", "volcanic phenomena"),
}
HAZARD_KEYS = tuple(HAZARDS)

# role → accepted column names, first the 推奨データセット's, then 国土地理院's, then English.
# The first name found in a header is the role's column.
ROLES: dict[str, tuple[str, ...]] = {
    "code": (
        "都道府県コード又は市区町村コード",
        "市区町村コード",
        "全国地方公共団体コード",
        "code",
    ),
    "id": ("NO", "No", "no", "共通ID", "ID", "id"),
    "name": ("指定緊急避難場所名", "指定避難所名", "施設・場所名", "名称", "name"),
    "kana": (
        "指定緊急避難場所名_カナ",
        "指定避難所名_カナ",
        "名称_カナ",
        "施設・場所名_カナ",
        "kana",
    ),
    "address": ("住所", "所在地_連結表記", "所在地", "address"),
    "lat": ("緯度", "lat", "latitude"),
    "lon": ("経度", "lon", "longitude"),
    "capacity": ("想定収容人数", "収容人数", "capacity"),
    "note": ("備考", "note"),
    "kind": ("種別", "kind"),
    "hazards": ("hazards",),
}
REQUIRED = ("id", "name", "address", "lat", "lon")
# The 推奨データセット's name column says which list a file is; 国土地理院's is of
# emergency sites.
KIND_BY_NAME_COLUMN = {
    "指定緊急避難場所名": "emergency_site",
    "指定避難所名": "shelter",
    "施設・場所名": "emergency_site",
}

# Circle marks, cross marks and dashes in their several code points, written as escapes.
_YES = {"1", "\u25cb", "\u3007", "\u25ef", "\u25ce", "\u25cf", "true", "yes", "可", "対応"}
_NO = {"", "0", "\u00d7", "\u2715", "-", "\u2212", "\u30fc", "false", "no", "不可", "非対応"}


@dataclass(frozen=True, slots=True)
class SiteColumns:
    roles: dict[str, str]  # role → the column (or property) name that holds it
    hazards: dict[str, str]  # hazard key → its column
    kind: str | None  # the list the columns say this is
    missing: list[str] = field(default_factory=list)  # required roles, by their usual name
    duplicates: list[str] = field(default_factory=list)


def site_columns(header: list[str], *, geojson: bool = False) -> SiteColumns:
    """Which column holds what. For GeoJSON, a point's own location replaces 緯度/経度."""
    roles: dict[str, str] = {}
    present = set(header)
    for role, names in ROLES.items():
        for name in names:
            if name in present:
                roles[role] = name
                break
    hazards: dict[str, str] = {}
    for key, (japanese, _) in HAZARDS.items():
        for name in (f"災害種別_{japanese}", japanese, key if geojson else ""):
            if name and name in present:
                hazards[key] = name
                break
    required = [r for r in REQUIRED if not (geojson and r in ("lat", "lon"))]
    missing = [ROLES[r][0] for r in required if r not in roles]
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    kind = KIND_BY_NAME_COLUMN.get(roles.get("name", ""))
    return SiteColumns(roles, hazards, kind, missing, duplicates)


def truth(value: Any) -> bool | None:
    """A hazard flag: True, False, or None when it cannot be read."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def hazard_key(value: str) -> str | None:
    text = unicodedata.normalize("NFKC", value).strip()
    for key, (japanese, english) in HAZARDS.items():
        if text in (key, japanese, f"災害種別_{japanese}", english):
            return key
    return None


def kind_of_value(value: str) -> str | None:
    text = unicodedata.normalize("NFKC", value).strip()
    for key, (japanese, _) in KINDS.items():
        if text in (key, japanese, key.replace("_", "-")):
            return key
    return None
