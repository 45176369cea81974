"""Every real sample in ../shared/data/cap gets the right verdict, with the fault named."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertcommons.cap import CapReadError, read_alerts, validate

VALID_12 = [
    "australia.cap",
    "canada.cap",
    "canada_signed.cap",
    "earthquake-iso8859-1.cap",
    "wcatwc-warning.cap",
]
VALID_11 = ["earthquake.cap", "earthquake_signed.cap", "no_optional_fields.cap", "weather.cap"]


def _read(path: Path):  # type: ignore[no-untyped-def]
    return read_alerts(path.read_bytes())


@pytest.mark.parametrize("name", VALID_12)
def test_valid_cap12_samples_pass(cap_dir: Path, name: str) -> None:
    (parsed,) = _read(cap_dir / name)
    report = validate(parsed)
    assert parsed.version == "1.2"
    assert report.errors == []
    assert parsed.alert.identifier


@pytest.mark.parametrize("name", VALID_11)
def test_cap11_samples_are_read_and_reported_as_11(cap_dir: Path, name: str) -> None:
    (parsed,) = _read(cap_dir / name)
    assert parsed.version == "1.1"
    assert any("1.1" in note for note in parsed.notes)
    assert validate(parsed).valid


def _errors(cap_dir: Path, name: str, index: int = 0) -> dict[str, str]:
    parsed = _read(cap_dir / name)[index]
    return {problem.path: problem.message for problem in validate(parsed).errors}


def test_invalid_cap_names_missing_scope(cap_dir: Path) -> None:
    errors = _errors(cap_dir, "invalid.cap")
    assert list(errors) == ["alert/scope"]
    assert "missing" in errors["alert/scope"]


def test_canada_errors_names_empty_references(cap_dir: Path) -> None:
    errors = _errors(cap_dir, "canada_errors.cap")
    assert list(errors) == ["alert/references"]
    assert "empty" in errors["alert/references"]


def test_noaa_errors_names_each_fault(cap_dir: Path) -> None:
    errors = _errors(cap_dir, "noaa_errors.cap")
    assert set(errors) == {
        "alert/info[1]/urgency",
        "alert/info[1]/severity",
        "alert/info[1]/certainty",
        "alert/info[1]/area[1]/polygon[1]",
    }
    assert "-118.09," in errors["alert/info[1]/area[1]/polygon[1]"]
    # Empty optional elements are schema-valid CAP that real services send: warnings, and
    # errors only under --strict (cap/lenient.py, docs/cap.md "Leniencies").
    (parsed,) = _read(cap_dir / "noaa_errors.cap")
    warnings = {p.path: p.message for p in validate(parsed).warnings}
    assert "empty" in warnings["alert/references"]
    assert "empty" in warnings["alert/info[1]/area[1]/polygon[2]"]
    strict = {p.path for p in validate(parsed, strict=True).errors}
    assert {"alert/references", "alert/info[1]/area[1]/polygon[2]"} <= strict


def test_iso8859_sample_is_decoded(cap_dir: Path) -> None:
    (parsed,) = _read(cap_dir / "earthquake-iso8859-1.cap")
    headline = parsed.alert.infos[0].headline or ""
    assert headline.startswith("EQ 4.6 Usulután, Usulután, El Sal")
    assert validate(parsed).valid


@pytest.mark.parametrize(
    ("encoding", "text"), [("ISO-8859-1", "Montréal-Nord"), ("Shift_JIS", "東京都千代田区")]
)
def test_declared_encodings_are_decoded(cap_dir: Path, encoding: str, text: str) -> None:
    source = (cap_dir / "earthquake-iso8859-1.cap").read_text("latin-1").replace("á", "a")
    source = source.replace('encoding="ISO-8859-1"', f'encoding="{encoding}"')
    source = source.replace("<event>Earthquake</event>", f"<event>{text}</event>")
    (parsed,) = read_alerts(source.encode(encoding))
    assert parsed.alert.infos[0].event == text


def test_edxlde_envelope_opens_every_alert(cap_dir: Path) -> None:
    alerts = _read(cap_dir / "bushfire_valid.edxlde")
    assert len(alerts) == 7
    assert all(validate(parsed).valid for parsed in alerts)
    assert alerts[1].container == (
        "EDXLDistribution/contentObject[2]/xmlContent/embeddedXMLContent"
    )


def test_edxlde_invalid_envelope_flags_the_broken_alerts(cap_dir: Path) -> None:
    alerts = _read(cap_dir / "bushfire_invalid.edxlde")
    verdicts = [validate(parsed).valid for parsed in alerts]
    assert verdicts == [True, False, False, True, True, True, True]
    assert "alert/identifier" in _errors(cap_dir, "bushfire_invalid.edxlde", 1)
    urgency = _errors(cap_dir, "bushfire_invalid.edxlde", 2)["alert/info[1]/urgency"]
    assert "Foobar" in urgency


def test_xee_is_refused(cap_dir: Path) -> None:
    with pytest.raises(CapReadError, match="DOCTYPE"):
        _read(cap_dir / "xee.cap")


def test_multiple_info_area_polygon_are_all_kept(cap_dir: Path) -> None:
    (parsed,) = _read(cap_dir / "australia.cap")
    assert len(parsed.alert.infos) == 2
    (canada,) = _read(cap_dir / "canada.cap")
    areas = [area for info in canada.alert.infos for area in info.areas]
    assert len(areas) >= 2
    assert all(area.polygons for area in areas)
