"""Registered districts and shelters against a hostile or careless importer, through the API:
a file made to cost the hub work out of proportion to its size, an error listing made to
outgrow the file, and two imports for one municipality at once."""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from typing import Any

import pytest

from tests.support.hub import Hub
from tests.support.pglocks import audit_head_held, writes_meet

pytestmark = pytest.mark.anyio

DEMO = resources.files("alertcommons.jp").joinpath("demo_places")
CITY = "131016"
GEOJSON = {"Content-Type": "application/geo+json"}
CSV = {"Content-Type": "text/csv"}
HEADER = (
    "都道府県コード又は市区町村コード,NO,指定避難所名,指定避難所名_カナ,住所,緯度,経度,"
    "想定収容人数,災害種別_洪水,災害種別_地震,災害種別_大規模な火事,備考"
)


async def _token(hub: Hub) -> dict[str, str]:
    city = await hub.org("東京都千代田区", "city.chiyoda.tokyo.jp", [CITY])
    headers: dict[str, str] = city["headers"]
    return headers


async def _post(hub: Hub, what: str, body: bytes, headers: dict[str, str]) -> Any:
    return await hub.client.post(
        f"/api/v1/jp/{what}/import", params={"code": CITY}, content=body, headers=headers
    )


async def test_a_collection_of_many_tiny_features_is_refused_in_linear_time(hub: Hub) -> None:
    # ~130,000 features of two bytes each fill the fixture's 256 KiB body. Finding the line
    # each feature starts on by counting newlines from the top of the file for every feature
    # took ~10 s of a core here (a minute and more at the default 1 MiB); it is one pass now.
    token = await _token(hub)
    head = b'{"type":"FeatureCollection","features":['
    count = (256 * 1024 - len(head) - 4) // 2
    body = head + b",".join([b"0"] * count) + b"]}"
    started = time.perf_counter()
    answer = await _post(hub, "districts", body, {**GEOJSON, **token})
    took = time.perf_counter() - started
    assert answer.status_code == 422, answer.text
    assert "too many records" in answer.json()["errors"][0]["message"]
    assert took < 3, f"{count:,} features took {took:.1f} s to refuse"


async def test_no_error_message_repeats_a_long_cell_or_column_name(hub: Hub) -> None:
    # A 100,000-character column name, named in every row's "too long" problem, made a
    # 300 KB file answer with 40 MB of errors; a long repeated id did the same on a smaller
    # scale. Every value a message quotes is cut short.
    token = await _token(hub)
    head = HEADER + "," + "Z" * 100_000
    row = "131016,{n},x,,東京都千代田区,35.69,139.75,,,,,," + "y" * 1001
    body = "\n".join([head] + [row.format(n=n) for n in range(140)]).encode()
    answer = await _post(hub, "shelters", body, {**CSV, **token})
    assert answer.status_code == 422, answer.text[:300]
    errors = answer.json()["errors"]
    assert len(errors) == 140
    assert len(answer.content) < len(body), f"{len(answer.content):,} bytes of errors"
    for error in errors:
        assert len(error["message"]) < 300 and len(error["message_ja"]) < 300, error

    same_id = "i" * 1000
    rows = [f"131016,{same_id},x,,東京都千代田区,35.69,139.75,,,,," for _ in range(200)]
    answer = await _post(hub, "shelters", "\n".join([HEADER, *rows]).encode(), {**CSV, **token})
    assert answer.status_code == 422
    for error in answer.json()["errors"]:
        assert len(error["message"]) < 300 and len(error["message_ja"]) < 300, error


def _collection(features: list[Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_imports_at_once_leave_one_file_s_districts_never_a_mix(
    hub: Hub, database_url: str
) -> None:
    # On PostgreSQL the hub writes on several connections: two imports for one municipality
    # each deleted the rows their snapshot saw and inserted their own, so both files' districts
    # stayed. The test holds the audit chain's head row (every import's last step) so that both
    # imports are inside their transactions together before either commits.
    token = await _token(hub)
    features = json.loads(DEMO.joinpath("chiyoda-districts.geojson").read_bytes())["features"]
    first, second = _collection(features[:4]), _collection(features[4:])
    names = [{f["properties"]["name"] for f in part} for part in (features[:4], features[4:])]
    with audit_head_held(database_url) as (waiting, release):
        imports = [
            asyncio.create_task(_post(hub, "districts", body, {**GEOJSON, **token}))
            for body in (first, second)
        ]
        await writes_meet(waiting, 2, "both imports waiting inside their transactions")
        release()
        answers = await asyncio.gather(*imports)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    listed = await hub.client.get("/api/v1/jp/districts", params={"code": CITY})
    registered = {f["properties"]["name"] for f in listed.json()["features"]}
    assert registered in names, sorted(registered)
