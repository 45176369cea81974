"""What is wrong with an imported file, said in Japanese and English, and the checks that
every importer shares: the size, the encoding (UTF-8 with or without a BOM, or Shift_JIS as
Excel saves it), and clean text in each cell.

A problem names its place: the CSV line where the record starts, or the GeoJSON feature's
index and the line it starts on; 0 is the file as a whole. The listing is bounded
(``max_errors``), with a last entry saying how many more there were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from alertcommons.cap.jsonmap import NOT_XML


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 4 * 1024 * 1024
    max_rows: int = 5_000  # sites in one file
    max_districts: int = 1_000
    max_vertices: int = 200_000  # over every district of a file
    max_cell: int = 1_000  # characters in one CSV cell or property
    max_columns: int = 200
    max_errors: int = 1_000  # listed; the count says how many there were in all


LIMITS = Limits()

# (Japanese, English) for each problem, filled in with the problem's details.
MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "ファイルが大きすぎます（上限 {limit:,} バイト）。",
        "the file is over the limit of {limit:,} bytes",
    ),
    "empty": ("ファイルが空です。", "the file is empty"),
    "binary": (
        "文字データではありません（NUL 文字を含みます）。",
        "the file is not text (it holds NUL characters)",
    ),
    "encoding": (
        "文字コードを判別できません。UTF-8 か Shift_JIS で保存してください。",
        "the file is neither UTF-8 nor Shift_JIS (cp932); save it as UTF-8",
    ),
    "json": ("JSON として読めません: {detail}", "not JSON: {detail}"),
    "collection": (
        "GeoJSON の FeatureCollection（features の配列）ではありません。",
        "not a GeoJSON FeatureCollection with a 'features' array",
    ),
    "no_features": ("地物（feature）がありません。", "the collection has no features"),
    "too_many": (
        "件数が多すぎます（上限 {limit:,} 件）。",
        "too many records (the limit is {limit:,})",
    ),
    "too_many_vertices": (
        "頂点が多すぎます（ファイル全体で上限 {limit:,}）。",
        "too many vertices (the limit is {limit:,} for the whole file)",
    ),
    "feature": ("Feature ではありません。", "not a GeoJSON Feature"),
    "properties": ("properties がありません。", "the feature has no 'properties' object"),
    "required": ("「{field}」が空です。", "'{field}' is empty"),
    "too_long": (
        "「{field}」が長すぎます（上限 {limit} 文字）。",
        "'{field}' is longer than {limit} characters",
    ),
    "control": (
        "「{field}」に使えない文字（制御文字）があります。",
        "'{field}' holds control characters",
    ),
    "text": ("「{field}」が文字列ではありません。", "'{field}' is not text"),
    "kana": (
        "「{field}」はかなで書いてください。",
        "'{field}' must be written in kana",
    ),
    "duplicate_name": (
        "地区名「{name}」が重複しています（{first} 件目と同じ）。",
        "district '{name}' appears twice (first as feature {first})",
    ),
    "geometry_type": (
        "図形は Polygon か MultiPolygon にしてください（{found}）。",
        "the geometry must be a Polygon or MultiPolygon, not {found}",
    ),
    "coordinates": ("座標が正しくありません: {detail}", "bad coordinates: {detail}"),
    "invalid_shape": ("図形が不正です: {detail}", "the outline is not valid: {detail}"),
    "outside": (
        "範囲が{place}の外にあります。",
        "the outline lies outside {place_en}",
    ),
    "mostly_outside": (
        "範囲の{percent}%が{place}の外にあります。",
        "{percent}% of the outline lies outside {place_en}",
    ),
    "reaches": ("範囲が{detail}", "the outline {detail_en}"),
    "header": (
        "見出し行に「{field}」の列がありません。",
        "the header has no '{field}' column",
    ),
    "duplicate_column": ("列「{field}」が2つあります。", "the column '{field}' appears twice"),
    "columns": (
        "列の数が見出し行と違います（{found} 列、見出しは {expected} 列）。",
        "{found} cells where the header has {expected}",
    ),
    "csv": ("CSV として読めません: {detail}", "not readable as CSV: {detail}"),
    "no_rows": ("データ行がありません。", "there are no data rows"),
    "id": (
        "「{field}」は英数字と . _ - で 64 文字までにしてください（{value}）。",
        "'{field}' must be letters, digits, '.', '_' or '-', at most 64 ({value})",
    ),
    "duplicate_id": (
        "ID「{value}」が重複しています（{first} 行目と同じ）。",
        "the id '{value}' appears twice (first at line {first})",
    ),
    "number": (
        "「{field}」が数値ではありません（{value}）。",
        "'{field}' is not a number ({value})",
    ),
    "range": (
        "「{field}」が範囲外です（{value}）。",
        "'{field}' is out of range ({value})",
    ),
    "swapped": (
        "緯度と経度が逆になっているようです。",
        "latitude and longitude seem to be swapped",
    ),
    "site_outside": (
        "位置（{lat}, {lon}）が{place}から離れています。",
        "the location ({lat}, {lon}) is not in or near {place_en}",
    ),
    "code": (
        "市区町村コード {value} が取り込み先（{expected}）と違います。",
        "the municipality code {value} is not that of the import ({expected})",
    ),
    "flag": (
        "「{field}」の値が読めません（{value}）。1 か ○、または空欄にしてください。",
        "'{field}' must be 1 or ○ (or empty), not {value}",
    ),
    "hazard": ("災害種別「{value}」が分かりません。", "unknown hazard '{value}'"),
    "kind": (
        "種別「{value}」が分かりません（指定緊急避難場所・指定避難所）。",
        "unknown kind '{value}' (emergency_site or shelter)",
    ),
    "no_kind": (
        "指定緊急避難場所か指定避難所かが分かりません。kind を指定してください。",
        "cannot tell emergency sites from shelters: give the kind",
    ),
    "point": (
        "図形は Point にしてください（{found}）。",
        "the geometry must be a Point, not {found}",
    ),
    "more": (
        "ほかに {count:,} 件の誤りがあります。",
        "{count:,} more problems are not listed",
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a file: where (CSV line, or GeoJSON feature and the line it starts
    on; 0 for the file as a whole) and what, in Japanese and English."""

    line: int
    key: str
    details: dict[str, Any] = field(default_factory=dict)
    feature: int | None = None  # 0-based index into "features"

    @property
    def message(self) -> str:
        return MESSAGES[self.key][1].format(**self.details)

    @property
    def message_ja(self) -> str:
        return MESSAGES[self.key][0].format(**self.details)

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "line": self.line,
            "message": self.message,
            "message_ja": self.message_ja,
        }
        if self.feature is not None:
            found["feature"] = self.feature
        return found


class FileRefused(Exception):
    """The file has problems; nothing of it may be imported."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        super().__init__(f"{total or len(problems)} problem(s) in the file")
        self.problems = problems
        self.total = total or len(problems)


@dataclass(frozen=True, slots=True)
class Place:
    """The municipality a file is for: its outline (None: unknown) and name for messages."""

    code: str
    name: str
    name_en: str
    outline: BaseGeometry | None


class _Problems:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.found: list[Problem] = []
        self.total = 0

    def add(self, line: int, key: str, feature: int | None = None, **details: Any) -> None:
        self.total += 1
        if len(self.found) < self.limits.max_errors:
            self.found.append(Problem(line, key, _quoted(details), feature))

    def raise_if_any(self) -> None:
        if self.total:
            shown = list(self.found)
            if self.total > len(shown):
                shown.append(Problem(0, "more", {"count": self.total - len(shown)}))
            raise FileRefused(shown, self.total)


# The most of a cell or column name a message quotes: a file's own text, repeated in every
# listed problem, would otherwise let a small file answer with megabytes of errors.
QUOTED = 80


def _quoted(details: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value[: QUOTED - 1] + "…" if isinstance(value, str) and len(value) > QUOTED else value
        for name, value in details.items()
    }


def _refuse(key: str, **details: Any) -> FileRefused:
    return FileRefused([Problem(0, key, details)])


def decode(data: bytes, limits: Limits = LIMITS) -> str:
    """The file's text: UTF-8 (a BOM is dropped) or Shift_JIS (cp932)."""
    if len(data) > limits.max_bytes:
        raise _refuse("too_large", limit=limits.max_bytes)
    if not data.strip():
        raise _refuse("empty")
    if b"\x00" in data:
        raise _refuse("binary")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse("encoding")


def _text(
    value: Any, label: str, where: tuple[int, int | None], problems: _Problems, *, limit: int
) -> str | None:
    """A cell or property as clean text (None when empty), or a problem noted."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        problems.add(where[0], "text", where[1], field=label)
        return None
    text = value.strip()
    if len(text) > limit:
        problems.add(where[0], "too_long", where[1], field=label, limit=limit)
        return None
    if NOT_XML.search(text):
        problems.add(where[0], "control", where[1], field=label)
        return None
    return text or None


_KANA = re.compile(r"^[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f\s・ー（）()\-]+$")


def _kana(
    value: Any, label: str, where: tuple[int, int | None], problems: _Problems, limit: int
) -> str | None:
    text = _text(value, label, where, problems, limit=limit)
    if text is not None and not _KANA.match(text):
        problems.add(where[0], "kana", where[1], field=label)
        return None
    return text
