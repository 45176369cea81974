"""Jurisdiction is checked for every kind of area the hub routes on (hardening issue 10, rows 2
and 19): JMA area geocodes are related to local-government areas, and polygons are checked as
whole shapes, not by their vertices."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alertcommons.cap import Alert, ValuePair
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"
INSIDE_CHIYODA = "35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750"
# 奥多摩 – 江戸川 – 伊豆大島: every vertex is in 東京都, the triangle covers 神奈川県 and the sea.
TOKYO_TRIANGLE = "35.80,139.10 35.68,139.87 34.75,139.38 35.80,139.10"


async def _subscribe(hub: Hub, receiver: Receiver, name: str, filter_: dict[str, object]) -> None:
    rx = await hub.org(name, None, [], kind="receiver")
    body = {"channel": "webhook", "url": receiver.url(f"/{name}"), "filter": filter_}
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=rx["headers"])
    assert response.status_code == 201, response.text


async def _post(hub: Hub, org: dict[str, Any], alert: Alert) -> httpx.Response:
    headers = {**org["headers"], **CAP_XML}
    return await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)


def _with(alert: Alert, *pairs: tuple[str, str]) -> Alert:
    alert.infos[0].areas[0].geocodes.extend(ValuePair(n, v) for n, v in pairs)
    return alert


@pytest.mark.parametrize(
    "extra",
    [
        [("JMA:forecast", "040010"), ("JMA:tsunami", "220")],
        [("JMA:forecast", "040010")],
        [("JMA:tsunami", "220")],
        [("JMA:city", "0410000")],  # 仙台市
        [("JMA:seismic", "350")],  # a kind the hub cannot relate to municipalities
        [("JMA:seismic-pref", "13")],  # the whole prefecture, in earthquake reports
        [("JMA:eew-pref", "9131")],  # 東京 in early warnings: the whole prefecture
        [("JMA:tsunami", "999")],  # a code the hub cannot place
    ],
)
async def test_municipality_cannot_route_through_jma_codes(
    hub: Hub, extra: list[tuple[str, str]]
) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = _with(make_alert(CHIYODA, ["131016"], headline="【大津波警報】宮城県"), *extra)
    response = await _post(hub, org, alert)
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["status"] == 403
    assert "outside your jurisdiction" in problem["detail"] or "national" in problem["detail"]


async def test_polygon_plus_jma_tsunami_refused(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = _with(make_alert(CHIYODA, polygon=INSIDE_CHIYODA), ("JMA:tsunami", "220"))
    response = await _post(hub, org, alert)
    assert response.status_code == 403, response.text
    assert "JMA:tsunami=220" in response.json()["detail"]


async def test_jma_codes_inside_the_jurisdiction_accepted(hub: Hub) -> None:
    chiyoda = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    own = _with(make_alert(CHIYODA, ["131016"]), ("JMA:city", "1310100"))
    assert (await _post(hub, chiyoda, own)).status_code == 201
    tokyo = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    islands = _with(make_alert("metro.tokyo.jp", ["13"]), ("JMA:forecast", "130010"))
    _with(islands, ("JMA:tsunami", "320"))  # 伊豆諸島
    assert (await _post(hub, tokyo, islands)).status_code == 201
    # 東京湾内湾 is also 千葉県's and 神奈川県's coast
    bay = _with(make_alert("metro.tokyo.jp", ["13"]), ("JMA:tsunami", "312"))
    assert (await _post(hub, tokyo, bay)).status_code == 403


async def test_earthquake_prefecture_codes_place_their_prefecture(hub: Hub) -> None:
    # JMA:seismic-pref (2 digits) and JMA:eew-pref (9PPx) lie in prefecture PP: a
    # prefecture's issuer may route on its own, not on a neighbour's.
    tokyo = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    own = _with(
        make_alert("metro.tokyo.jp", ["13"]), ("JMA:seismic-pref", "13"), ("JMA:eew-pref", "9131")
    )
    assert (await _post(hub, tokyo, own)).status_code == 201
    for pair in (("JMA:seismic-pref", "12"), ("JMA:eew-pref", "9120")):
        other = _with(make_alert("metro.tokyo.jp", ["13"]), pair)
        response = await _post(hub, tokyo, other)
        assert response.status_code == 403, pair


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_national_issuer_still_routes_on_jma_codes(hub: Hub, receiver: Receiver) -> None:
    await _subscribe(hub, receiver, "miyagi-coast", {"jma_areas": ["220"]})
    await _subscribe(hub, receiver, "miyagi-east", {"jma_areas": ["040010"]})
    jma = await hub.org("気象庁", "jma.go.jp", ["*"])
    alert = _with(
        make_alert("jma.go.jp", ["04"], event="大津波警報"),
        ("JMA:tsunami", "220"),
        ("JMA:forecast", "040010"),
        ("JMA:seismic", "220"),
    )
    response = await _post(hub, jma, alert)
    assert response.status_code == 201, response.text
    assert response.json()["deliveries"] == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_polygon_is_checked_as_a_shape_not_by_vertices(hub: Hub, receiver: Receiver) -> None:
    await _subscribe(hub, receiver, "yokohama", {"circle": "35.4437,139.6380 3"})
    tokyo = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    triangle = make_alert("metro.tokyo.jp", polygon=TOKYO_TRIANGLE)
    response = await _post(hub, tokyo, triangle)
    assert response.status_code == 403, response.text
    assert "polygon[1]" in response.json()["detail"]
    # a thin wedge whose vertices are all in 東京都 but whose middle crosses 川崎市
    wedge = "35.700,139.400 35.560,139.780 35.540,139.500 35.700,139.400"
    response = await _post(hub, tokyo, make_alert("metro.tokyo.jp", polygon=wedge))
    assert response.status_code == 403, response.text
    inside = await _post(hub, tokyo, make_alert("metro.tokyo.jp", polygon=INSIDE_CHIYODA))
    assert inside.status_code == 201, inside.text
    assert receiver.received == []


async def test_circle_reaching_a_neighbour_refused(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    near = make_alert(CHIYODA)
    near.infos[0].areas[0].circles.append("35.6850,139.7550 0.3")
    assert (await _post(hub, org, near)).status_code == 201
    wide = make_alert(CHIYODA)
    wide.infos[0].areas[0].circles.append("35.6850,139.7550 3")
    response = await _post(hub, org, wide)
    assert response.status_code == 403, response.text
    assert "circle[1]" in response.json()["detail"]


def test_geometry_check_is_bounded_per_alert() -> None:
    """However large or many an alert's shapes, the points looked up stay within budget."""
    from shapely import Polygon

    from alertcommons.auth.geometry import MAX_POINTS, samples

    huge = Polygon([(139.0, 35.0), (140.0, 35.0), (140.0, 36.0), (139.0, 36.0)])
    assert len(samples(huge)) <= MAX_POINTS + 8
    assert len(samples(huge, MAX_POINTS // 100)) <= MAX_POINTS // 100 + 8
