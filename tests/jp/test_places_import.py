"""Registered districts and designated shelters: imported from files through the API, on
SQLite and PostgreSQL; a bad file lists every problem with its line and imports nothing."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from sqlalchemy import select

from alertcommons.store.schema import audit_log
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

DEMO = resources.files("alertcommons.jp").joinpath("demo_places")
CITY = "131016"
GEOJSON = {"Content-Type": "application/geo+json"}
CSV = {"Content-Type": "text/csv"}

HEADER = (
    "都道府県コード又は市区町村コード,NO,指定避難所名,指定避難所名_カナ,住所,緯度,経度,"
    "想定収容人数,災害種別_洪水,災害種別_地震,災害種別_大規模な火事,備考"
)


def _demo(name: str) -> bytes:
    return DEMO.joinpath(name).read_bytes()


async def _chiyoda(hub: Hub) -> dict[str, Any]:
    return await hub.org("東京都千代田区", "city.chiyoda.tokyo.jp", [CITY])


async def _post(
    hub: Hub, what: str, body: bytes, headers: dict[str, str], token: dict[str, str]
) -> Any:
    return await hub.client.post(
        f"/api/v1/jp/{what}/import",
        params={"code": CITY},
        content=body,
        headers={**headers, **token},
    )


async def _audit(hub: Hub) -> list[Any]:
    return await hub.services.store.read(
        lambda c: list(c.execute(select(audit_log).order_by(audit_log.c.seq)))
    )


async def _names(hub: Hub, path: str) -> list[str]:
    answer = await hub.client.get(f"/api/v1/jp/{path}", params={"code": "13101"})
    assert answer.status_code == 200, answer.text
    return [f["properties"]["name"] for f in answer.json()["features"]]


async def test_the_demo_files_import_and_are_listed(hub: Hub) -> None:
    city = await _chiyoda(hub)
    token = city["headers"]
    answer = await _post(hub, "districts", _demo("chiyoda-districts.geojson"), GEOJSON, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 8 and answer.json()["replaced"] == 0
    names = await _names(hub, "districts")
    assert names[:6] == [
        "麹町地区",
        "富士見地区",
        "神保町地区",
        "神田公園地区",
        "万世橋地区",
        "和泉橋地区",
    ]
    assert "神田地区" in names and "番町地区" in names

    shelters = await _post(hub, "shelters", _demo("chiyoda-shelters.csv"), CSV, token)
    assert shelters.status_code == 200, shelters.text
    assert shelters.json()["imported"] == 7 and shelters.json()["kinds"] == {"shelter": 7}
    sites = await _post(hub, "shelters", _demo("chiyoda-emergency-sites.csv"), CSV, token)
    assert sites.json()["kinds"] == {"emergency_site": 4}, sites.text
    listed = await hub.client.get("/api/v1/jp/shelters/registered", params={"code": CITY})
    features = listed.json()["features"]
    assert len(features) == 11  # importing one list left the other standing
    kudan = next(
        f
        for f in features
        if f["properties"]["name"] == "九段小学校" and f["properties"]["kind"] == "shelter"
    )
    assert kudan["geometry"] == {"type": "Point", "coordinates": [139.7423, 35.6918]}
    assert kudan["properties"]["capacity"] == 600
    assert "earthquake" in kudan["properties"]["hazards"]
    # the open/full/close messages' state query is another thing, and still answers
    assert (await hub.client.get("/api/v1/jp/shelters", params={"code": CITY})).json()[
        "shelters"
    ] == []

    # A registered district's outline passes the check every published polygon passes.
    districts = (await hub.client.get("/api/v1/jp/districts", params={"code": CITY})).json()
    from alertcommons.hub.places import cap_polygon

    published = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=token,
        json={
            "municipality": CITY,
            "level": 4,
            "hazard": "flood",
            "districts": [
                {"name": f["properties"]["name"], "polygon": cap_polygon(f["geometry"])}
                for f in districts["features"]
            ],
        },
    )
    assert published.status_code == 201, published.text

    actions = [r.action for r in await _audit(hub)]
    assert actions.count("districts.import") == 1 and actions.count("shelters.import") == 2


async def test_a_broken_row_is_named_and_nothing_is_imported(hub: Hub) -> None:
    token = (await _chiyoda(hub))["headers"]
    good = f"{HEADER}\n131016,1,A小学校,エーショウガッコウ,千代田区1,35.69,139.75,100,1,1,,\n"
    assert (await _post(hub, "shelters", good.encode(), CSV, token)).status_code == 200
    broken = (
        f"{HEADER}\n"
        "131016,1,九段小学校,クダンショウガッコウ,千代田区三番町16,35.6918,139.7423,600,1,1,,\n"
        "131016,2,番町小学校,バンチョウショウガッコウ,千代田区六番町8,北緯35度,139.7310,500,1,1,,\n"
        '131016,3,"麹町小学校",コウジマチショウガッコウ,千代田区麹町2-8,35.6838,139.7386,500,1,1,,"備考\n'
        '二行目"\n'
        "131016,4,富士見小学校,フジミショウガッコウ,千代田区富士見1-10-3,35.6985,139.7464,,はい,1,,\n"
    )
    answer = await _post(hub, "shelters", broken.encode("cp932"), CSV, token)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "https://alertcommons.org/problems/invalid-file"
    assert [e["line"] for e in problem["errors"]] == [3, 6]  # line 4's note spans two lines
    assert "緯度" in problem["errors"][0]["message"]
    assert "災害種別_洪水" in problem["errors"][1]["message_ja"]
    assert await _names(hub, "shelters/registered") == ["A小学校"]  # the old set stands


async def test_broken_district_features_are_named_by_index_and_line(hub: Hub) -> None:
    token = (await _chiyoda(hub))["headers"]
    districts = json.loads(_demo("chiyoda-districts.geojson"))
    features = districts["features"]
    features[2]["geometry"]["coordinates"][0].pop()  # no longer closed
    features[5]["properties"]["name"] = ""
    osaka = [[135.50, 34.69], [135.51, 34.69], [135.51, 34.70], [135.50, 34.69]]
    features.append(
        {
            "type": "Feature",
            "properties": {"name": "大阪"},
            "geometry": {"type": "Polygon", "coordinates": [osaka]},
        }
    )
    body = json.dumps(districts, ensure_ascii=False, indent=1).encode()
    answer = await _post(hub, "districts", body, GEOJSON, token)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [e["feature"] for e in errors] == [2, 5, 8]
    text = body.decode()
    for error in errors:  # each line is where its feature starts
        assert text.splitlines()[error["line"] - 1].strip() == "{"
    assert "closed" in errors[0]["message"] and "outside" in errors[2]["message"]
    assert await _names(hub, "districts") == []


async def test_only_the_municipality_s_issuers_or_an_admin_may_import(hub: Hub) -> None:
    await _chiyoda(hub)
    shinjuku = await hub.org("東京都新宿区", "city.shinjuku.tokyo.jp", ["131041"])
    tv = await hub.org("テレビ局", None, [], kind="receiver")
    body = _demo("chiyoda-shelters.csv")
    for caller in (shinjuku, tv):
        answer = await _post(hub, "shelters", body, CSV, caller["headers"])
        assert answer.status_code == 403, answer.text
    assert await _names(hub, "shelters/registered") == []
    assert (await _post(hub, "shelters", body, CSV, hub.admin)).status_code == 200
    assert [r.subject for r in await _audit(hub) if r.action == "shelters.import.refused"] == [
        "13101"
    ] * 2


async def test_hostile_files_are_refused_with_a_problem(hub: Hub) -> None:
    token = (await _chiyoda(hub))["headers"]
    cases: list[tuple[str, bytes, dict[str, str], str]] = [
        ("districts", b"[" * 100_000 + b"]" * 100_000, GEOJSON, "JSON"),
        ("districts", b'{"type": "FeatureCollection", "features": [NaN]}', GEOJSON, "JSON"),
        ("districts", b"\xff\xfe{\x00}\x00", GEOJSON, "NUL"),
        ("districts", b"\x81\xff\x80garbage", GEOJSON, "UTF-8"),
        ("shelters", HEADER.encode() + b"\n" + b"1," * 300 + b"\n", CSV, "cells"),
        ("shelters", HEADER.encode() + b'\n"unclosed' + b"x" * 200_000, CSV, "CSV"),
        ("shelters", b"a,b,c\n1,2,3\n", CSV, "NO"),
        ("shelters", b"", CSV, "empty"),
    ]
    bowtie = [[139.75, 35.68], [139.76, 35.69], [139.76, 35.68], [139.75, 35.69], [139.75, 35.68]]
    cases.append(
        (
            "districts",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"name": "x"},
                            "geometry": {"type": "Polygon", "coordinates": [bowtie]},
                        }
                    ],
                }
            ).encode(),
            GEOJSON,
            "not valid",
        )
    )
    for what, body, headers, words in cases:
        answer = await _post(hub, what, body, headers, token)
        assert answer.status_code in (413, 422), (words, answer.text)
        if answer.status_code == 422:
            shown = " ".join(e["message"] for e in answer.json()["errors"])
            assert words in shown, (words, shown)
    too_big = b"x" * (300 * 1024)
    assert (await _post(hub, "districts", too_big, GEOJSON, token)).status_code == 413
    wrong_type = await _post(hub, "districts", b"{}", {"Content-Type": "text/plain"}, token)
    assert wrong_type.status_code == 415
    assert await _names(hub, "districts") == []
    assert await _names(hub, "shelters/registered") == []


async def test_geojson_points_and_the_gsi_columns_are_read(hub: Hub) -> None:
    token = (await _chiyoda(hub))["headers"]
    gsi = (
        "\ufeffNO,共通ID,施設・場所名,住所,洪水,崖崩れ、土石流及び地滑り,高潮,地震,津波,"
        "大規模な火事,内水氾濫,火山現象,緯度,経度,備考\n"
        "1,1310100001,皇居外苑,東京都千代田区皇居外苑1-1,,,,1,,1,,,35.6803,139.7570,\n"
    )
    answer = await _post(hub, "shelters", gsi.encode(), CSV, token)
    assert answer.status_code == 200 and answer.json()["kinds"] == {"emergency_site": 1}
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [139.7423, 35.6918]},
                "properties": {
                    "id": "kudan",
                    "name": "九段小学校",
                    "address": "千代田区三番町16",
                    "capacity": 600,
                    "hazards": ["flood", "地震"],
                },
            }
        ],
    }
    answer = await hub.client.post(
        "/api/v1/jp/shelters/import",
        params={"code": CITY, "kind": "shelter"},
        json=points,
        headers=token,
    )
    assert answer.status_code == 200, answer.text
    listed = (
        await hub.client.get(
            "/api/v1/jp/shelters/registered", params={"code": CITY, "kind": "shelter"}
        )
    ).json()["features"]
    assert listed[0]["properties"]["hazards"] == ["flood", "earthquake"]
    assert await _names(hub, "shelters/registered") == ["皇居外苑", "九段小学校"]
