"""Every kind the JMA converter handles has an English ``info`` beside the Japanese one, from
phrase tables kept as data, so English pages and receivers never show a Japanese-only alert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alertcommons.jp.jma import KINDS, MEGAQUAKE, convert
from alertcommons.jp.jma.english import KIND_NAMES, name

JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff]")  # hiragana and katakana: untranslated text
PLACE = re.compile(r"\([^()]*(?:\([^()]*\)[^()]*)*\)")  # "(奈良県)": places stay as written


def _untranslated(text: str) -> bool:
    return bool(JAPANESE_SCRIPT.search(PLACE.sub("", text)))


def test_every_kind_has_an_english_name() -> None:
    missing = {kind.key for kind in (*KINDS.values(), MEGAQUAKE)} - set(KIND_NAMES)
    assert not missing, f"report kinds without an English name: {sorted(missing)}"


@pytest.mark.parametrize(
    ("japanese", "english"),
    [
        ("大雨警報", "Heavy Rain Warning"),
        ("大雨特別警報・洪水警報", "Heavy Rain Emergency Warning, Flood Warning"),
        ("レベル４土砂災害危険警報", "Level 4 Landslide Danger Warning"),
        ("津波注意報解除", "Tsunami Advisory lifted"),
        ("奈良県気象警報・注意報", "Weather Warnings and Advisories (奈良県)"),
        ("火山名　浅間山　噴火警報（火口周辺）", "Volcanic Warning (crater area) (浅間山)"),
        (
            "南海トラフ地震臨時情報（巨大地震警戒）",
            "Nankai Trough Earthquake Extra Information (megaquake warning)",
        ),
        ("未知の警報", None),
    ],
)
def test_phrases(japanese: str, english: str | None) -> None:
    assert name(japanese) == english


def test_every_converted_sample_has_an_english_twin(shared_data: Path) -> None:
    kinds = set()
    for path in sorted((shared_data / "jma-samples").glob("*.xml")):
        converted = convert(path.read_bytes())
        if converted.alert is None:
            continue
        infos = converted.alert.infos
        ja = [info for info in infos if info.language == "ja-JP"]
        en = [info for info in infos if info.language == "en-US"]
        assert ja and len(en) == len(ja), path.name
        for japanese, english in zip(ja, en, strict=True):
            assert (english.severity, english.urgency, english.certainty) == (
                japanese.severity,
                japanese.urgency,
                japanese.certainty,
            )
            assert len(english.areas) == len(japanese.areas), path.name
            for text in (english.event, english.headline, english.sender_name):
                assert text and not _untranslated(text), (path.name, text)
            assert english.description and english.description != japanese.description
        kinds.add(converted.type)
    assert len(kinds) >= 15
