"""The matching index: code hierarchy, JMA codes, geometry, and the narrowing keys."""

from __future__ import annotations

import pytest

from alertcommons.cap import Alert, Area, Info, ValuePair
from alertcommons.delivery.filters import FilterError, parse_filter
from alertcommons.delivery.matching import Matcher, facts_of
from alertcommons.delivery.policy import priority


def _alert(
    *geocodes: tuple[str, str],
    polygon: str | None = None,
    status: str = "Actual",
    severity: str = "Severe",
    language: str = "ja-JP",
    msg_type: str = "Alert",
) -> Alert:
    area = Area(
        area_desc="x",
        geocodes=[ValuePair(n, v) for n, v in geocodes],
        polygons=[polygon] if polygon else [],
    )
    info = Info(
        language=language,
        categories=["Met"],
        event="大雨警報",
        urgency="Expected",
        severity=severity,
        certainty="Likely",
        areas=[area],
    )
    return Alert(
        identifier="i",
        sender="s",
        sent="2026-07-01T09:00:00+09:00",
        status=status,
        msg_type=msg_type,
        scope="Public",
        infos=[info],
    )


def _matcher(**filters: dict[str, object]) -> Matcher:
    return Matcher((name, parse_filter(document)[0]) for name, document in filters.items())


def LG(code: str) -> tuple[str, str]:
    return ("JIS X 0402", code)


def test_code_hierarchy() -> None:
    matcher = _matcher(
        tokyo={"areas": ["13"]},
        chiyoda={"areas": ["131016"]},
        osaka_city={"areas": ["27100"]},
        osaka_kita={"areas": ["27127"]},
        everyone={},
    )
    assert matcher.match(facts_of(_alert(LG("131016")))) == {"tokyo", "chiyoda", "everyone"}
    assert matcher.match(facts_of(_alert(LG("131041")))) == {"tokyo", "everyone"}
    # a prefecture-wide alert reaches every subscriber inside the prefecture
    assert matcher.match(facts_of(_alert(LG("130001")))) == {"tokyo", "chiyoda", "everyone"}
    # a ward's alert reaches the designated city's subscribers
    assert matcher.match(facts_of(_alert(LG("27127")))) == {"osaka_city", "osaka_kita", "everyone"}


def test_jma_codes_and_geometry() -> None:
    matcher = _matcher(
        jma={"jma_areas": ["130010"]},
        near_palace={"circle": "35.685,139.753 2"},
        box={"polygon": "35.70,139.74 35.70,139.78 35.67,139.78 35.67,139.74 35.70,139.74"},
        far={"circle": "43.06,141.35 5"},
    )
    assert matcher.match(facts_of(_alert(("JMA:forecast", "130010")))) == {"jma"}
    # a municipality code meets geometry through the municipality's centroid
    assert matcher.match(facts_of(_alert(LG("131016")))) == {"near_palace", "box"}
    polygon = "35.69,139.75 35.69,139.76 35.68,139.76 35.68,139.75 35.69,139.75"
    assert matcher.match(facts_of(_alert(polygon=polygon))) == {"near_palace", "box"}


def test_narrowing_keys() -> None:
    matcher = _matcher(
        severe={"min_severity": "Severe"},
        extreme={"min_severity": "Extreme"},
        english={"languages": ["en"]},
        japanese={"languages": ["ja"]},
        fire={"categories": ["Fire"]},
        drills={"statuses": ["Exercise"]},
    )
    facts = facts_of(_alert(LG("131016")))
    assert matcher.match(facts) == {"severe", "japanese"}
    assert matcher.match(facts_of(_alert(LG("131016"), status="Exercise"))) == {"drills"}
    assert matcher.match(facts_of(_alert(LG("131016"), msg_type="Ack"))) == set()


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"areas": "13"}, "areas"),
        ({"areas": ["9"]}, "areas"),
        ({"polygon": "0,0 1,1 1,0 0,1 0,0"}, "polygon"),
        ({"circle": "35,139"}, "circle"),
        ({"statuses": ["Real"]}, "statuses"),
        ({"min_urgency": "Unknown"}, "min_urgency"),
        ({"sizes": []}, "sizes"),
    ],
)
def test_bad_filters_name_the_key(document: dict[str, object], key: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(document)
    assert caught.value.key == key


def test_priority_order() -> None:
    assert priority("Immediate", "Extreme") == 0
    assert priority("Immediate", "Extreme") < priority("Immediate", "Severe")
    assert priority("Expected", "Severe") < priority("Future", "Minor")
