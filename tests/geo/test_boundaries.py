"""The shipped outlines of municipalities and prefectures, and what matching does with them:
a filter drawn as a shape gets an alert for a coded area it overlaps, not only one whose
centre point it holds."""

from __future__ import annotations

import pytest
from shapely import Point, Polygon

from alertcommons.geo.boundaries import CREDIT, boundaries
from alertcommons.jp.codes import registry
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio


def test_every_municipality_of_the_registry_has_its_outline() -> None:
    outlines = boundaries()
    places = registry().municipalities
    assert len(outlines.prefectures) == 47
    missing = [code for code in places if outlines.outline(code) is None]
    assert missing == []
    # The registry's centre points lie in their own outlines (a few coastal ones just off).
    outside = [
        code
        for code, place in places.items()
        if not outlines.outline(code).buffer(0.02).contains(Point(place.lon, place.lat))  # type: ignore[union-attr]
    ]
    assert len(outside) <= 5, outside


def test_designated_city_is_its_wards_and_prefecture_holds_them() -> None:
    outlines = boundaries()
    yokohama = outlines.outline("141003")  # 横浜市: no outline of its own, the union of 18 wards
    naka = outlines.outline("141046")  # 横浜市中区
    assert yokohama is not None and naka is not None
    assert yokohama.contains(naka.representative_point())
    assert yokohama.area > naka.area * 10
    kanagawa = outlines.outline("14")
    assert kanagawa is not None and kanagawa.contains(naka.representative_point())
    assert "国土数値情報" in CREDIT


# 神田・秋葉原 in 千代田区: a receiver's square that holds part of the ward, not its centre.
KANDA_SQUARE = "35.695,139.770 35.700,139.770 35.700,139.776 35.695,139.776 35.695,139.770"
YOKOHAMA_SQUARE = "35.44,139.63 35.45,139.63 35.45,139.64 35.44,139.64 35.44,139.63"


async def test_a_drawn_filter_gets_alerts_for_areas_it_overlaps(hub: Hub) -> None:
    chiyoda = registry().municipalities["13101"]
    outline = boundaries().outline("13101")
    square = Polygon([(139.770, 35.695), (139.770, 35.700), (139.776, 35.700), (139.776, 35.695)])
    assert outline is not None and outline.intersects(square)
    assert not square.contains(Point(chiyoda.lon, chiyoda.lat))  # far from the ward's centre
    city = await hub.org("千代田区", "city.chiyoda.lg.jp", ["13101"])
    rx = await hub.org("Receivers", None, [], kind="receiver")
    for polygon in (KANDA_SQUARE, YOKOHAMA_SQUARE):
        body = {"channel": "webhook", "url": "http://127.0.0.1:9/", "filter": {"polygon": polygon}}
        response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
        assert response.status_code == 201, response.text
    alert = make_alert("city.chiyoda.lg.jp", ["131016"])  # codes only, no shape
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**city["headers"], **CAP_XML}
    )
    assert response.status_code == 201, response.text
    assert response.json()["deliveries"] == 1  # the Kanda square, not the Yokohama one
