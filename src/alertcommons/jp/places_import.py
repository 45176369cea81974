"""Reading a municipality's districts and designated evacuation sites from files. No I/O.

Districts come as a GeoJSON FeatureCollection (properties ``name``, ``kana``; geometry
Polygon or MultiPolygon). Sites come as the CSV of Japan's published open data — the
デジタル庁 推奨データセット「指定緊急避難場所一覧」「指定避難所一覧」, or the 国土地理院
指定緊急避難場所 CSV — or as GeoJSON points whose properties use the same column names
(or plain ``name``, ``address``, ``capacity``, ``hazards`` …). ``site_columns.py`` is the
table of the columns each accepts.

A file is read whole before anything is kept: every problem is listed with its place (the CSV
line where the record starts, or the GeoJSON feature's index and the line it starts on), and
one problem means nothing is imported. Files are UTF-8 (with or without a BOM) or Shift_JIS
(cp932, as Excel saves them); sizes, rows, vertices and cells are bounded, so a hostile file
costs a bounded amount of work and memory.
"""

from __future__ import annotations

from alertcommons.jp.districts_import import District, parse_districts
from alertcommons.jp.import_problems import LIMITS, FileRefused, Limits, Place, Problem, decode
from alertcommons.jp.site_columns import KINDS
from alertcommons.jp.sites_import import Site, parse_sites

__all__ = [
    "KINDS",
    "LIMITS",
    "District",
    "FileRefused",
    "Limits",
    "Place",
    "Problem",
    "Site",
    "decode",
    "parse_districts",
    "parse_sites",
]
