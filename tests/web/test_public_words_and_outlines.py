"""What a resident reads on the public pages and what their maps draw: outlines served by the
hub itself (no tile server, no other host), evacuation levels in their colours with their
words, shelters by state and capacity, lifts listed as 解除, dates as people write them, and
English pages that name places in romaji."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from shapely.geometry import Point, shape

from alertcommons.geo.boundaries import CREDIT
from tests.support.alerts import KANDA_SCHOOL
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
CHIYODA = "city.chiyoda.lg.jp"
KANDA = Point(139.771, 35.694)  # 神田駅: inside 千代田区
YOKOHAMA = Point(139.638, 35.444)  # 横浜市: in Kanagawa, where the 東京都 dot used to sit


async def test_outlines_are_served_small_cached_and_credited(hub: Hub) -> None:
    for path in ("/geo/municipalities/131016.geojson", "/geo/municipalities/13101.geojson"):
        response = await hub.client.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/geo+json"
        assert "max-age=86400" in response.headers["cache-control"]
        assert len(response.content) < 20_000  # a ward is a few kilobytes, not the country
        feature = response.json()
        assert feature["properties"]["code"] == "13101"
        assert feature["properties"]["credit"] == CREDIT
        outline = shape(feature["geometry"])
        assert outline.contains(KANDA) and not outline.contains(YOKOHAMA)
        again = await hub.client.get(path, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
    tokyo = await hub.client.get("/geo/prefectures/13.geojson")
    assert tokyo.status_code == 200
    assert shape(tokyo.json()["geometry"]).contains(KANDA)
    assert not shape(tokyo.json()["geometry"]).contains(YOKOHAMA)
    city = await hub.client.get("/geo/municipalities/141003.geojson")  # 横浜市: its wards
    assert city.status_code == 200 and shape(city.json()["geometry"]).contains(YOKOHAMA)
    for bad in (
        "/geo/municipalities/131017.geojson",  # wrong check digit
        "/geo/municipalities/13.geojson",  # a prefecture is not a municipality
        "/geo/prefectures/131016.geojson",
        "/geo/countries/13.geojson",
        "/geo/municipalities/abc.geojson",
    ):
        response = await hub.client.get(bad)
        assert response.status_code == 404, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


def _map_items(page: str, map_id: str) -> list[dict[str, Any]]:
    found = re.search(rf'<script type="application/json" id="{map_id}-data">(.*?)</script>', page)
    assert found, f"no data for #{map_id}"
    items: list[dict[str, Any]] = json.loads(found.group(1))["items"]
    return items


async def test_levels_shelters_lifts_dates_and_romaji(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    order = await hub.evacuate(city)
    shelter = await hub.client.post(
        "/api/v1/jp/shelters",
        headers=city["headers"],
        json={**KANDA_SCHOOL, "state": "full"},
    )
    assert shelter.status_code == 201, shelter.text

    index = (await hub.client.get("/")).text
    # Level 4 in its colour with its words; the shelter by state and capacity, no severity.
    assert '<span class="badge level-badge level-4">警戒レベル4 避難指示</span>' in index
    assert '<span class="badge shelter-badge shelter-full">満員</span>' in index
    assert "収容人数 300人" in index and "軽微" not in index
    written = r'<time datetime="[^"]+\+09:00">\d{1,2}月\d{1,2}日 \d{1,2}時\d{2}分</time>'
    assert re.search(written, index)
    assert "UTC+09:00" not in index
    items = _map_items(index, "overview")
    # The whole ward is its outline (fetched from this hub), the shelter a marker.
    assert [i["level"] for i in items if i.get("outline") == "13101"] == [4]
    assert {"marker": [35.694, 139.771], "state": "full", "label": "神田小学校 (満員)"} in items
    assert not [i for i in items if "lat" in i]  # no dot standing for an area
    assert CREDIT in index

    english = (await hub.client.get("/?lang=en")).text
    assert '<h4 class="town">Chiyoda-ku, Tokyo</h4>' in english
    assert "Level 4: Evacuation order" in english and "Capacity 300 people" in english
    assert re.search(r"\d{1,2} (Jan|Feb|[A-S][a-z]{2}) \d{1,2}:\d{2} \(JST\)", english)
    assert CREDIT in english  # the credit as the licence words it, with a translation

    shelter_page = (await hub.client.get(f"/alerts/{shelter.json()['id']}")).text
    assert "が満員になりました" in shelter_page and "を満員" not in shelter_page
    assert "軽微" not in shelter_page
    order_page = (await hub.client.get(f"/alerts/{order.json()['id']}?lang=en")).text
    assert "all of Chiyoda-ku, Tokyo" in order_page

    lift = await hub.evacuate(city, action="lift")
    index = (await hub.client.get("/")).text
    lifted = index.split('id="lifted-heading"')[1]
    assert "解除された情報（24時間以内）" in index
    assert '<span class="badge badge-lifted">解除</span>' in lifted
    assert f"/alerts/{lift.json()['id']}" in lifted
    assert "level-4" not in lifted  # the order it ended is no longer shown as in force
    assert "Lifted" in (await hub.client.get("/?lang=en")).text

    closed = await hub.client.post(
        "/api/v1/jp/shelters",
        headers=city["headers"],
        json={**KANDA_SCHOOL, "state": "closed"},
    )
    assert closed.status_code == 201, closed.text
    for alert_id in (shelter.json()["id"], closed.json()["id"]):
        page = (await hub.client.get(f"/alerts/{alert_id}")).text
        assert "この避難所は閉鎖されました。" in page and "取り消されました" not in page
    closing = (await hub.client.get(f"/alerts/{closed.json()['id']}?lang=en")).text
    assert "This shelter has closed." in closing
    assert '<span class="badge shelter-badge shelter-closed">Closed</span>' in closing


def test_dates_as_people_write_them() -> None:
    from alertcommons.web.render import when

    moment = "2026-11-29T17:40:00+00:00"  # 2:40 the next morning in Japan
    assert when(moment, "ja") == "11月30日 2時40分"
    assert when(moment, "en") == "30 Nov 2:40 (JST)"
    assert when("2026-01-05T09:05:00+09:00", "ja") == "1月5日 9時05分"


def test_shelter_sentences_are_grammatical() -> None:
    from alertcommons.jp.shelters import SHELTER_STATES, Shelter, build_shelter

    texts = {}
    for state in SHELTER_STATES:
        shelter = Shelter("13101", "s1", "神田小学校", "千代田区神田1-1", 35.69, 139.75, state)
        texts[state] = build_shelter(shelter, "x").infos[0].description
    where = "東京都千代田区は、神田小学校（千代田区神田1-1）"
    assert str(texts["full"]).startswith(f"{where}が満員になりました。")
    assert str(texts["open"]).startswith(f"{where}を開設しました。")
    assert not [t for t in texts.values() if "を満員" in str(t)]


async def test_a_ward_wide_order_and_a_district_order_on_one_page(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    for body in (
        {"municipality": "131016", "level": 3, "hazard": "flood"},
        {
            "municipality": "131016",
            "level": 4,
            "hazard": "flood",
            "districts": [
                {"name": "神田地区"},
                {
                    "name": "番町地区",
                    "polygon": "35.69,139.73 35.69,139.74 35.68,139.74 35.69,139.73",
                },
            ],
        },
    ):
        response = await hub.client.post(
            "/api/v1/jp/evacuation", headers=city["headers"], json=body
        )
        assert response.status_code == 201, response.text
    page = (await hub.client.get(f"/alerts/{response.json()['id']}")).text
    orders = page.split('<ul class="orders"')[1].split("</ul>")[0]
    assert '警戒レベル4 避難指示</span> <span class="order-where">神田地区' in orders
    assert '警戒レベル3 高齢者等避難</span> <span class="order-where">東京都千代田区全域' in orders
    items = _map_items(page, "alert-map")
    # The ward is its outline at the ward-wide level; the drawn district is its polygon at
    # level 4; 神田地区, named without a shape, adds nothing the ward outline does not show.
    assert [(i["outline"], i["level"]) for i in items if "outline" in i] == [("13101", 3)]
    assert [i["level"] for i in items if "polygon" in i] == [4]
    english = (await hub.client.get(f"/alerts/{response.json()['id']}?lang=en")).text
    assert "Level 3: Elderly and others evacuate" in english

    # A district alone, named without a shape: the ward's outline only as dashed context.
    await hub.evacuate(city, action="lift")
    alone = await hub.evacuate(city, level=4, hazard="flood", districts=[{"name": "神田地区"}])
    items = _map_items((await hub.client.get(f"/alerts/{alone.json()['id']}")).text, "alert-map")
    assert [(i["outline"], i["level"], i.get("context")) for i in items] == [("13101", None, True)]


async def test_a_page_of_several_levels_heads_with_the_highest_and_lists_every_order(
    hub: Hub,
) -> None:
    """One message, three orders at two levels (ward-wide 3, two districts at 4, the higher
    one given first or last): the page's badge and headline say level 4, the highest, and its
    list holds every order, in Japanese and in English."""
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    for body in (
        {
            "municipality": "131016",
            "level": 4,
            "hazard": "flood",
            "districts": [{"name": "神田地区"}],
        },
        {"municipality": "131016", "level": 3, "hazard": "flood"},
        {
            "municipality": "131016",
            "level": 4,
            "hazard": "flood",
            "districts": [{"name": "番町地区"}],
        },
    ):
        response = await hub.client.post(
            "/api/v1/jp/evacuation", headers=city["headers"], json=body
        )
        assert response.status_code == 201, response.text
    alert_id = response.json()["id"]
    for lang, highest, lower, places in (
        ("ja", "警戒レベル4", "警戒レベル3", ("神田地区", "番町地区", "東京都千代田区全域")),
        ("en", "Level 4", "Level 3", ("神田地区", "番町地区", "all of Chiyoda-ku")),
    ):
        page = (await hub.client.get(f"/alerts/{alert_id}?lang={lang}")).text
        event = page.split('<p class="event">')[1].split("</p>")[0]
        assert f'level-badge level-4">{highest}' in event, event
        headline = page.split('<h1 id="headline">')[1].split("</h1>")[0]
        assert "4" in headline and "3" not in headline.replace("13101", ""), headline
        orders = page.split('<ul class="orders"')[1].split("</ul>")[0]
        lines = orders.split("<li>")[1:]
        assert len(lines) == 3, orders
        assert sum(highest in line for line in lines) == 2, orders
        assert sum(lower in line for line in lines) == 1, orders
        for place in places:
            assert place in orders, (lang, place, orders)
