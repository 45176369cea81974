"""The rules the schema cannot express, each shown failing with its path named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alertcommons.cap import Alert, Area, Info, validate
from alertcommons.cap.model import ValuePair


def _alert(**changes: object) -> Alert:
    info = Info(
        language="ja-JP",
        categories=["Met"],
        event="大雨",
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        effective="2026-07-01T09:00:00+09:00",
        expires="2026-07-01T21:00:00+09:00",
        areas=[
            Area(
                area_desc="千代田区",
                polygons=["35.70,139.74 35.70,139.78 35.67,139.78 35.67,139.74 35.70,139.74"],
                circles=["35.69,139.75 2.5"],
                geocodes=[ValuePair("JIS X 0402", "131016")],
            )
        ],
    )
    alert = Alert(
        identifier="jp.example.1",
        sender="chiyoda@example.jp",
        sent="2026-07-01T09:00:00+09:00",
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=[info],
    )
    return replace(alert, **changes)  # type: ignore[arg-type]


def _errors(alert: Alert) -> dict[str, str]:
    return {p.path: p.message for p in validate(alert).errors}


def _with_area(**changes: object) -> Alert:
    alert = _alert()
    alert.infos[0].areas[0] = replace(alert.infos[0].areas[0], **changes)  # type: ignore[arg-type]
    return alert


def _with_info(**changes: object) -> Alert:
    alert = _alert()
    alert.infos[0] = replace(alert.infos[0], **changes)  # type: ignore[arg-type]
    return alert


def test_baseline_is_valid() -> None:
    assert _errors(_alert()) == {}


@pytest.mark.parametrize(
    ("polygon", "words"),
    [
        ("35.70,139.74 35.70,139.78 35.67,139.78 35.70,139.75", "not closed"),
        ("35.70,139.74 35.70,139.78 35.70,139.74", "at least 4"),
        ("95.0,139.74 35.70,139.78 35.67,139.78 95.0,139.74", "latitude"),
        ("35.7,190.0 35.70,139.78 35.67,139.78 35.7,190.0", "longitude"),
        ("0,0 1,1 1,0 0,1 0,0", "crosses itself"),
        ("35.70;139.74 35.70,139.78 35.67,139.78 35.70;139.74", "lat,lon"),
    ],
)
def test_polygon_faults(polygon: str, words: str) -> None:
    errors = _errors(_with_area(polygons=[polygon]))
    assert words in errors["alert/info[1]/area[1]/polygon[1]"]


@pytest.mark.parametrize(
    ("circle", "words"),
    [("35.69,139.75", "lat,lon radius"), ("35.69,139.75 -1", "negative"), ("x 1", "lat,lon")],
)
def test_circle_faults(circle: str, words: str) -> None:
    errors = _errors(_with_area(circles=[circle]))
    assert words in errors["alert/info[1]/area[1]/circle[1]"]


@pytest.mark.parametrize(
    ("sent", "words"),
    [
        ("2026-07-01T00:00:00Z", "numeric offset"),
        ("2026-07-01T09:00:00", "YYYY-MM-DD"),
        ("2026-02-30T09:00:00+09:00", "not a real date"),
    ],
)
def test_date_times_need_offsets(sent: str, words: str) -> None:
    assert words in _errors(_alert(sent=sent))["alert/sent"]


def test_expires_must_follow_effective() -> None:
    errors = _errors(_with_info(expires="2026-07-01T08:00:00+09:00"))
    assert "not after effective" in errors["alert/info[1]/expires"]


def test_expires_must_follow_sent_when_no_effective() -> None:
    errors = _errors(_with_info(effective=None, expires="2026-06-30T09:00:00+09:00"))
    assert "not after sent" in errors["alert/info[1]/expires"]


def test_language_tag() -> None:
    assert "language tag" in _errors(_with_info(language="日本語"))["alert/info[1]/language"]


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
def test_update_and_cancel_need_references(msg_type: str) -> None:
    errors = _errors(_alert(msg_type=msg_type))
    assert msg_type in errors["alert/references"]
    good = "chiyoda@example.jp,jp.example.0,2026-07-01T08:00:00+09:00"
    assert _errors(_alert(msg_type=msg_type, references=good)) == {}


@pytest.mark.parametrize(
    ("references", "words"),
    [
        ("", "empty"),
        ("chiyoda@example.jp,jp.example.0", "sender,identifier,sent"),
        ("a,b,2026-07-01", "date-time"),
        ("chiyoda@example.jp,jp.example.1,2026-07-01T09:00:00+09:00", "itself"),
    ],
)
def test_references_syntax(references: str, words: str) -> None:
    errors = _errors(_alert(msg_type="Update", references=references))
    assert words in errors["alert/references"]


def test_identifier_and_sender_characters() -> None:
    errors = _errors(_alert(identifier="a b", sender="x,y"))
    assert "space, comma" in errors["alert/identifier"]
    assert "space, comma" in errors["alert/sender"]


def test_scope_restricted_and_private() -> None:
    assert "restriction" in _errors(_alert(scope="Restricted"))["alert/restriction"]
    assert "addresses" in _errors(_alert(scope="Private"))["alert/addresses"]


def test_enumerations_are_checked() -> None:
    errors = _errors(_with_info(urgency="Now", categories=["Weather"], response_types=["Run"]))
    assert "Immediate" in errors["alert/info[1]/urgency"]
    assert "Met" in errors["alert/info[1]/category[1]"]
    assert "Evacuate" in errors["alert/info[1]/responseType[1]"]


def test_missing_required_elements_are_named() -> None:
    errors = _errors(_with_info(event=None, categories=[]))
    assert "missing" in errors["alert/info[1]/event"]
    assert "at least one" in errors["alert/info[1]/category"]


def test_altitude_and_ceiling() -> None:
    assert "altitude" in _errors(_with_area(ceiling="100"))["alert/info[1]/area[1]/ceiling"]
    below = _errors(_with_area(altitude="200", ceiling="100"))
    assert "below" in below["alert/info[1]/area[1]/ceiling"]


def test_whole_message_size_is_limited() -> None:
    alert = _with_info(description="あ" * 400_000)
    report = validate(alert, max_bytes=1024 * 1024)
    assert report.errors[0].path == "alert"
    assert "over" in report.errors[0].message


def test_schema_catches_what_rules_do_not() -> None:
    # Element order is the schema's business: <scope> before <status> is not CAP.
    from alertcommons.cap import read_alert

    document = b"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>x</identifier><sender>s</sender><sent>2026-07-01T09:00:00+09:00</sent>
<scope>Public</scope><status>Actual</status><msgType>Alert</msgType></alert>"""
    errors = validate(read_alert(document)).errors
    assert errors, "misordered elements must be refused"
    assert any(problem.path in ("alert/scope", "alert/status") for problem in errors)
