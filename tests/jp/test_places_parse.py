"""Reading district and site files, without a hub: encodings, layouts, and every problem named
with its place."""

from __future__ import annotations

import json

import pytest

from alertcommons.hub.places import place_of
from alertcommons.jp.places_import import FileRefused, Limits, parse_districts, parse_sites

CHIYODA = place_of("13101")
HEADER = "NO,指定避難所名,住所,緯度,経度,想定収容人数,災害種別_洪水,災害種別_津波"


def _problems(data: bytes, **kwargs: object) -> list[tuple[int, str]]:
    with pytest.raises(FileRefused) as refused:
        parse_sites(data, CHIYODA, "text/csv", **kwargs)  # type: ignore[arg-type]
    return [(p.line, p.message) for p in refused.value.problems]


def test_utf8_with_bom_and_shift_jis_read_alike() -> None:
    text = f'{HEADER}\n\uff11,九段小学校,三番町16,35.6918,139.7423,"1,200",○,\n'
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode(), text.encode("cp932")):
        (site,) = parse_sites(data, CHIYODA, "text/csv")
        assert (site.kind, site.site_id, site.capacity, site.hazards) == (
            "shelter",
            "1",
            1200,
            ("flood",),
        )


def test_every_problem_is_listed_with_its_line() -> None:
    data = (
        f"{HEADER}\n"
        "1,A,住所,139.74,35.69,,,\n"  # swapped
        "2,,住所,35.69,139.74,,,\n"  # no name
        "3,C,住所,34.69,135.50,,,\n"  # in Osaka
        "4,D,住所,35.69,139.74,lots,x,\n"  # capacity and flag
        "3,E,住所,35.69,139.74,,,\n"  # the id of line 4 again
    ).encode()
    found = _problems(data)
    assert [line for line, _ in found] == [2, 3, 4, 5, 5, 6]
    assert "swapped" in found[0][1] and "empty" in found[1][1]
    assert "Chiyoda" in found[2][1] and "twice" in found[5][1]


def test_a_site_of_another_municipality_and_a_missing_column() -> None:
    other = "都道府県コード又は市区町村コード," + HEADER + "\n131041,1,A,住所,35.69,139.74,,,\n"
    assert "13101" in _problems(other.encode())[0][1]
    assert _problems(b"NO,name\n1,x\n")[0] == (1, "the header has no '住所' column")


def test_the_listing_is_bounded() -> None:
    rows = "".join(f"{n},,住所,35.69,139.74,,,\n" for n in range(1, 50))
    with pytest.raises(FileRefused) as refused:
        parse_sites(f"{HEADER}\n{rows}".encode(), CHIYODA, "text/csv", limits=Limits(max_errors=5))
    assert refused.value.total == 49
    assert len(refused.value.problems) == 6
    assert refused.value.problems[-1].message == "44 more problems are not listed"


def test_a_multipolygon_district_and_a_kind_from_the_query() -> None:
    square = [[139.752, 35.692], [139.756, 35.692], [139.756, 35.695], [139.752, 35.692]]
    other = [[139.740, 35.680], [139.744, 35.680], [139.744, 35.683], [139.740, 35.680]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "二つの区域", "kana": "ふたつのくいき"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[square], [other]]},
            }
        ],
    }
    (district,) = parse_districts(json.dumps(collection).encode(), CHIYODA)
    assert district.geometry["type"] == "MultiPolygon"
    assert _problems(b"NO,name,address,lat,lon\n1,x,y,35.69,139.74\n")[0][1].startswith(
        "cannot tell"
    )
    (site,) = parse_sites(
        b"NO,name,address,lat,lon\n1,x,y,35.69,139.74\n", CHIYODA, "text/csv", kind="shelter"
    )
    assert site.kind == "shelter"
