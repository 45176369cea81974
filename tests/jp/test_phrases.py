"""Every standard message type renders in every language of the phrase table, place names in
the reader's script; a missing template fails here, not in a resident's message."""

from __future__ import annotations

import copy
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from alertcommons.cap import read_alert, to_xml, validate
from alertcommons.cap.model import Alert
from alertcommons.jp import evacuation, jma, national, phrases, shelters
from alertcommons.jp.jma.languages import TRANSLATION_BUDGET
from alertcommons.jp.romaji import place
from tests.support.hub import Hub

CHIYODA = "13101"
LATIN = ("en-US", "pt-BR", "vi-VN")
PREVIOUS = ("previous", "2026-11-29T09:00:00+09:00")  # liftings and closings cancel it


def _messages() -> list[tuple[str, Alert]]:
    found: list[tuple[str, Alert]] = []
    for level in (3, 4, 5):
        for hazard in evacuation.HAZARDS:
            for lift in (False, True):
                for districts in (
                    (),
                    (evacuation.District("神田地区"), evacuation.District("ばんちょう")),
                ):
                    order = evacuation.Order(CHIYODA, level, hazard, districts)
                    found.append(
                        (
                            f"evacuation {level} {hazard} {lift}",
                            evacuation.build(order, "x", lift=lift, replaces=PREVIOUS),
                        )
                    )
    for state in shelters.SHELTER_STATES:
        shelter = shelters.Shelter(
            CHIYODA,
            "s1",
            "神田小学校",
            "千代田区神田1-1",
            35.69,
            139.75,
            state,
            hazards=("flood", "landslide"),
        )
        found.append((f"shelter {state}", shelters.build_shelter(shelter, "x", replaces=PREVIOUS)))
    for kind in shelters.HQ_KINDS:
        for established in (True, False):
            found.append(
                (
                    f"hq {kind} {established}",
                    shelters.build_headquarters(CHIYODA, kind, established, "x", replaces=PREVIOUS),
                )
            )
    for kind in national.KINDS:
        found.append((f"national {kind}", national.build("x", kind, ["03", "04100"])))
    return found


def test_the_table_is_whole() -> None:
    assert phrases.missing() == []
    assert set(phrases.LANGUAGES) == {
        "ja-JP",
        "en-US",
        "zh-CN",
        "zh-TW",
        "ko-KR",
        "pt-BR",
        "vi-VN",
        "ja-JP-x-easy",
    }


def test_a_missing_template_is_reported() -> None:
    table = copy.deepcopy(phrases.PHRASES)
    del table["shelter"]["go_elsewhere"]["vi-VN"]
    table["national"]["text.eew"]["ko-KR"] = ""
    assert phrases.missing(table) == ["shelter/go_elsewhere/vi-VN", "national/text.eew/ko-KR"]


@pytest.mark.parametrize(
    ("name", "alert"), _messages(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_message_type_in_every_language(name: str, alert: Alert) -> None:
    assert [info.language for info in alert.infos] == list(phrases.LANGUAGES)
    report = validate(read_alert(to_xml(alert)))
    assert report.valid, report.errors
    for info in alert.infos:
        for text in (info.event, info.headline, info.description, info.instruction):
            assert text is None or (text.strip() and "{" not in text and "}" not in text), (
                info.language,
                text,
            )
        assert info.event and info.headline and info.description
        if info.language in LATIN and "national" not in name:
            # Place names in romaji: nothing in Japanese script but what the issuer wrote
            # without a reading (神田地区, the shelter's name and address).
            rest = (info.description or "").replace("神田地区", "").replace("神田小学校", "")
            rest = rest.replace("千代田区神田1-1", "")
            assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", rest), (info.language, rest)


def test_place_names_in_the_readers_script() -> None:
    order = evacuation.Order(CHIYODA, 4, "flood", (evacuation.District("ばんちょう"),))
    infos = {info.language: info for info in evacuation.build(order, "x").infos}
    assert infos["en-US"].headline == "[Alert level 4] Evacuation order (flood): Bancho"
    english = infos["en-US"].description or ""
    assert english.startswith("Chiyoda-ku, Tokyo has issued an evacuation order")
    assert (infos["zh-TW"].description or "").startswith("由於有洪水的危險，東京都千代田区")
    assert "東京都千代田区（とうきょうとちよだく）" in (infos["ja-JP-x-easy"].description or "")
    assert place("27127") == "Kita-ku, Osaka-shi, Osaka"
    assert place("07203") == "Koriyama-shi, Fukushima"  # こおりやま, from the registry's kana
    assert place("14382") == "Hakone-machi, Kanagawa" and place("01") == "Hokkaido"
    # Long vowels unmarked and no stray characters, for every municipality in the registry.
    from alertcommons.jp.codes import registry

    for code in registry().municipalities:
        name = place(code)
        assert unicodedata.normalize("NFKC", name).isascii() and name[0].isupper(), (code, name)


def test_an_organization_may_narrow_the_languages() -> None:
    order = evacuation.Order(CHIYODA, 4, "flood")
    alert = evacuation.build(order, "x", languages=("en-US", "vi-VN"))
    # Japanese is always written: the standard wording is Japanese.
    assert [info.language for info in alert.infos] == ["ja-JP", "en-US", "vi-VN"]


def test_every_jma_report_is_named_in_every_language(shared_data: Path) -> None:
    kinds = set()
    for path in sorted((shared_data / "jma-samples").glob("*.xml")):
        converted = jma.convert(path.read_bytes())
        if converted.alert is None:
            continue
        languages = [info.language for info in converted.alert.infos]
        assert languages[0] == "ja-JP" and "en-US" in languages, path.name
        kinds.add(converted.event_base.split(".")[1])
        if len(set(languages)) < len(phrases.LANGUAGES):
            # Only a report too large with all of them loses the last languages, and says so.
            assert converted.notes and "left out" in converted.notes[0], path.name
            # within the budget, unless the Japanese and English alone are over it
            assert len(to_xml(converted.alert)) <= TRANSLATION_BUDGET or set(languages) == {
                "ja-JP",
                "en-US",
            }, path.name
    assert len(kinds) >= 10


def test_a_huge_report_keeps_its_japanese_and_english(shared_data: Path) -> None:
    # 2024-06-13 震源・震度に関する情報 naming municipalities all over Japan: 0.75 MB with
    # every language, more than a hub with a 256 KiB body limit accepts.
    path = shared_data / "jma-samples" / "32-39_11_05_240613_VXSE53.xml"
    converted = jma.convert(path.read_bytes())
    assert converted.alert is not None
    languages = {info.language for info in converted.alert.infos}
    assert {"ja-JP", "en-US"} <= languages < set(phrases.LANGUAGES)
    # The other languages go first; Japanese and English are never left out, even when
    # they alone are over the budget (the hub's 1 MB body limit still takes them).
    if len(to_xml(converted.alert)) > TRANSLATION_BUDGET:
        assert languages == {"ja-JP", "en-US"}
    assert len(to_xml(converted.alert)) < 1024 * 1024


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_an_organization_narrows_its_languages(hub: Hub) -> None:
    city = await hub.chiyoda()
    path = f"/api/v1/organizations/{city['id']}"

    async def languages_of(endpoint: str, body: dict[str, Any]) -> list[str]:
        issued = await hub.client.post(endpoint, headers=city["headers"], json=body)
        assert issued.status_code == 201, issued.text
        record = (await hub.client.get(f"/api/v1/alerts/{issued.json()['id']}")).json()
        return [info["language"] for info in record["alert"]["info"]]

    evacuation_order = {"municipality": "131016", "level": 3, "hazard": "flood"}
    # Every language by default.
    assert await languages_of("/api/v1/jp/evacuation", evacuation_order) == list(phrases.LANGUAGES)
    narrowed = await hub.client.patch(
        path, json={"languages": ["vi-VN", "en-US"]}, headers=hub.admin
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["languages"] == ["ja-JP", "en-US", "vi-VN"]  # Japanese always
    raised = {**evacuation_order, "level": 4}
    assert await languages_of("/api/v1/jp/evacuation", raised) == ["ja-JP", "en-US", "vi-VN"]
    shelter = {
        "municipality": "131016",
        "id": "s1",
        "name": "神田小学校",
        "address": "神田1-1",
        "lat": 35.69,
        "lon": 139.75,
        "state": "open",
    }
    assert await languages_of("/api/v1/jp/shelters", shelter) == ["ja-JP", "en-US", "vi-VN"]
    # An unknown language is refused, saying which; null brings every language back.
    bad = await hub.client.patch(path, json={"languages": ["en-US", "fr-FR"]}, headers=hub.admin)
    assert bad.status_code == 422 and bad.json()["path"] == "languages/1"
    assert "fr-FR" in bad.json()["detail"]
    reset = await hub.client.patch(path, json={"languages": None}, headers=hub.admin)
    assert reset.status_code == 200 and reset.json()["languages"] is None
    lifted = {**evacuation_order, "action": "lift"}
    assert await languages_of("/api/v1/jp/evacuation", lifted) == list(phrases.LANGUAGES)
