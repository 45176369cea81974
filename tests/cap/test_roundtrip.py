"""XML → model → XML → model is lossless; so is the JSON mapping, for samples and random alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertcommons.cap import (
    Alert,
    Area,
    Info,
    Resource,
    ValuePair,
    from_json,
    read_alert,
    read_alerts,
    to_json,
    to_xml,
    validate,
)
from alertcommons.cap.model import (
    CATEGORIES,
    CERTAINTIES,
    RESPONSE_TYPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
)
from alertcommons.cap.values import format_datetime

SAMPLES = [
    "australia.cap",
    "canada.cap",
    "canada_signed.cap",
    "earthquake-iso8859-1.cap",
    "earthquake.cap",
    "noaa_errors.cap",
    "weather.cap",
    "wcatwc-warning.cap",
    "bushfire_valid.edxlde",
]


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_round_trip(cap_dir: Path, name: str) -> None:
    for parsed in read_alerts((cap_dir / name).read_bytes()):
        xml = to_xml(parsed.alert)
        again = read_alert(xml)
        assert again.alert == parsed.alert
        assert to_xml(again.alert) == xml  # stable output
        assert from_json(json.loads(json.dumps(to_json(parsed.alert)))) == parsed.alert


# Text XML can carry: no C0 controls but tab/LF, no surrogates. CR is kept (written &#13;).
_xml_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00\ufffe\uffff"),
    max_size=40,
).map(lambda s: "".join(c for c in s if c >= " " or c in "\t\n\r"))
_token = st.text("abcdefghijklmnopqrstuvwxyz0123456789.-_:@", min_size=1, max_size=24)
_lat = st.floats(-89.9, 89.9).map(lambda x: round(x, 4))
_lon = st.floats(-179.9, 179.9).map(lambda x: round(x, 4))


@st.composite
def _moment(draw: st.DrawFn) -> datetime:
    base = draw(st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1)))
    offset = draw(st.sampled_from([0, 9 * 60, -5 * 60, 330]))
    return base.replace(
        microsecond=0, tzinfo=timezone(timedelta(minutes=offset)) if offset else UTC
    )


@st.composite
def _box(draw: st.DrawFn) -> str:
    lat, lon = draw(_lat), draw(_lon)
    size = draw(st.floats(0.01, 0.09).map(lambda x: round(x, 3)))
    corners = [(lat, lon), (lat, lon + size), (lat - size, lon + size), (lat - size, lon)]
    return " ".join(f"{a:g},{b:g}" for a, b in [*corners, corners[0]])


_pair = st.builds(ValuePair, _token, _xml_text)

_area = st.builds(
    Area,
    area_desc=_xml_text.filter(str.strip),
    polygons=st.lists(_box(), max_size=3),
    circles=st.lists(
        st.tuples(_lat, _lon, st.floats(0, 500).map(lambda r: round(r, 2))).map(
            lambda t: f"{t[0]:g},{t[1]:g} {t[2]:g}"
        ),
        max_size=2,
    ),
    geocodes=st.lists(_pair, max_size=3),
    altitude=st.none() | st.just("100"),
    ceiling=st.none(),
)


@st.composite
def _info(draw: st.DrawFn, sent: datetime) -> Info:
    start = sent + timedelta(minutes=draw(st.integers(0, 600)))
    return Info(
        language=draw(st.none() | st.sampled_from(["ja-JP", "en-US", "en", "zh-Hant-TW"])),
        categories=draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3)),
        event=draw(_xml_text.filter(str.strip)),
        response_types=draw(st.lists(st.sampled_from(RESPONSE_TYPES), max_size=2)),
        urgency=draw(st.sampled_from(URGENCIES)),
        severity=draw(st.sampled_from(SEVERITIES)),
        certainty=draw(st.sampled_from(CERTAINTIES)),
        audience=draw(st.none() | _xml_text),
        event_codes=draw(st.lists(_pair, max_size=2)),
        effective=format_datetime(start),
        onset=draw(st.none() | st.just(format_datetime(start))),
        expires=format_datetime(start + timedelta(hours=draw(st.integers(1, 72)))),
        sender_name=draw(st.none() | _xml_text),
        headline=draw(st.none() | _xml_text),
        description=draw(st.none() | _xml_text),
        instruction=draw(st.none() | _xml_text),
        web=draw(st.none() | st.just("https://example.jp/alerts/1")),
        contact=draw(st.none() | _xml_text),
        parameters=draw(st.lists(_pair, max_size=3)),
        resources=draw(
            st.lists(
                st.builds(
                    Resource,
                    resource_desc=_xml_text.filter(str.strip),
                    mime_type=st.sampled_from(["audio/mpeg", "image/png", "text/html"]),
                    size=st.none() | st.integers(0, 10**9).map(str),
                    uri=st.none() | st.just("https://example.jp/r.mp3"),
                ),
                max_size=2,
            )
        ),
        areas=draw(st.lists(_area, max_size=3)),
    )


@st.composite
def valid_alerts(draw: st.DrawFn) -> Alert:
    sent = draw(_moment())
    return Alert(
        identifier=draw(_token),
        sender=draw(_token),
        sent=format_datetime(sent),
        status=draw(st.sampled_from(STATUSES)),
        msg_type="Alert",
        source=draw(st.none() | _xml_text),
        scope="Public",
        codes=draw(st.lists(_xml_text, max_size=2)),
        note=draw(st.none() | _xml_text),
        incidents=draw(st.none() | _token),
        infos=draw(st.lists(_info(sent), min_size=1, max_size=3)),
    )


@settings(max_examples=150, deadline=None)
@given(valid_alerts())
def test_random_valid_alerts_survive_xml_round_trip(alert: Alert) -> None:
    report = validate(alert)
    assert report.valid, report.errors  # the generator makes valid alerts; the validator agrees
    parsed = read_alert(to_xml(alert))
    assert parsed.alert == alert
    assert validate(parsed).valid


@settings(max_examples=150, deadline=None)
@given(valid_alerts())
def test_random_valid_alerts_survive_json_round_trip(alert: Alert) -> None:
    document = json.loads(json.dumps(to_json(alert), ensure_ascii=False))
    assert from_json(document) == alert
