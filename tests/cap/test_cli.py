"""The command line exactly as integrators run it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.certs import make_identity


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_validate_json_every_sample(cap_dir: Path) -> None:
    files = sorted(cap_dir.glob("*.cap")) + sorted(cap_dir.glob("*.edxlde"))
    result = run("cap", "validate", "--json", *files)
    assert result.returncode == 4  # xee.cap holds no alert it will read: that wins over 1
    verdicts: dict[tuple[str, object], bool] = {}
    outcomes = {
        (Path(str(line["file"])).name, line["index"]): line["outcome"] for line in lines(result)
    }
    assert {key for key, outcome in outcomes.items() if outcome == "unreadable"} == {("xee.cap", 0)}
    for line in lines(result):
        assert set(line) >= {"file", "index", "valid", "version", "identifier", "errors"}
        verdicts[(Path(str(line["file"])).name, line["index"])] = bool(line["valid"])
        for error in line["errors"]:  # type: ignore[attr-defined]
            assert set(error) == {"path", "message"}
    invalid = {key for key, ok in verdicts.items() if not ok}
    assert invalid == {
        ("invalid.cap", 0),
        ("canada_errors.cap", 0),
        ("noaa_errors.cap", 0),
        ("xee.cap", 0),
        ("bushfire_invalid.edxlde", 1),
        ("bushfire_invalid.edxlde", 2),
    }


def test_validate_exit_zero_when_all_valid(cap_dir: Path) -> None:
    result = run("cap", "validate", cap_dir / "canada.cap", cap_dir / "weather.cap")
    assert result.returncode == 0, result.stdout
    assert "valid CAP 1.1" in result.stdout


def test_validate_reports_version_and_path(cap_dir: Path) -> None:
    (line,) = lines(run("cap", "validate", "--json", cap_dir / "noaa_errors.cap"))
    assert line["version"] == "1.1"
    paths = {error["path"] for error in line["errors"]}  # type: ignore[attr-defined]
    assert "alert/info[1]/urgency" in paths


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run("cap", "validate", tmp_path / "nope.cap")
    assert result.returncode == 4
    assert "UNREADABLE" in result.stdout and "cannot open" in result.stdout
    assert "Traceback" not in result.stderr


def test_verify_json(cap_dir: Path) -> None:
    result = run(
        "cap",
        "verify",
        "--json",
        "--cert",
        cap_dir / "naads_x509_cert.pem",
        "--cert",
        cap_dir / "environment_canada_x509_cert.pem",
        cap_dir / "canada_signed.cap",
        cap_dir / "earthquake_signed.cap",
    )
    # Signatures hold, but neither alert is verified against the given certificates today:
    # Canada's have expired, the earthquake's key is a bare KeyValue that names nobody.
    assert result.returncode == 1, result.stdout + result.stderr
    canada, quake = lines(result)
    assert set(canada) >= {"file", "signature", "certificate", "signer", "errors", "verified"}
    assert canada["signature"] == "valid"
    assert canada["certificate"] == "expired"
    assert quake["signature"] == "valid" and quake["certificate"] is None
    assert not canada["verified"] and not quake["verified"]
    integrity_only = run("cap", "verify", "--json", cap_dir / "earthquake_signed.cap")
    assert integrity_only.returncode == 0
    assert lines(integrity_only)[0]["verified"] is True


def test_verify_at_sent_time_trusts_then_valid_certificate(cap_dir: Path) -> None:
    result = run(
        "cap",
        "verify",
        "--json",
        "--at",
        "sent",
        "--cert",
        cap_dir / "naads_x509_cert.pem",
        "--cert",
        cap_dir / "environment_canada_x509_cert.pem",
        cap_dir / "canada_signed.cap",
    )
    assert lines(result)[0]["certificate"] == "trusted"


def test_verify_tampered_and_absent_exit_nonzero(cap_dir: Path, tmp_path: Path) -> None:
    data = (cap_dir / "canada_signed.cap").read_bytes().replace(b"Toronto", b"Torontp", 1)
    tampered = tmp_path / "tampered.cap"
    tampered.write_bytes(data)
    result = run("cap", "verify", "--json", tampered, cap_dir / "canada.cap")
    assert result.returncode == 1
    bad, absent = lines(result)
    assert bad["signature"] == "invalid"
    assert absent["signature"] == "absent"
    assert absent["certificate"] is None


def test_verify_bad_cert_file_is_usage_error(cap_dir: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    result = run("cap", "verify", "--cert", bogus, cap_dir / "canada_signed.cap")
    assert result.returncode == 2
    assert "--cert" in result.stderr


def test_convert_both_ways(cap_dir: Path, tmp_path: Path) -> None:
    to_json = run("cap", "convert", "--to", "json", cap_dir / "australia.cap")
    assert to_json.returncode == 0, to_json.stderr
    document = json.loads(to_json.stdout)
    assert len(document["info"]) == 2
    json_file = tmp_path / "alert.json"
    json_file.write_text(to_json.stdout)
    to_xml = run("cap", "convert", "--to", "xml", json_file)
    assert to_xml.returncode == 0, to_xml.stderr
    xml_file = tmp_path / "alert.xml"
    xml_file.write_text(to_xml.stdout)
    assert run("cap", "validate", xml_file).returncode == 0
    assert json.loads(run("cap", "convert", "--to", "json", xml_file).stdout) == document


def test_convert_bad_json_names_member(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"identifier": "x", "info": [{"areaa": []}]}')
    result = run("cap", "convert", "--to", "xml", bad)
    assert result.returncode == 1
    assert "alert/info[1]/areaa" in result.stderr


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_sign_then_verify(cap_dir: Path, tmp_path: Path, kind: str) -> None:
    identity = make_identity("Test Hub", kind)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_bytes(identity.key_pem)
    cert.write_bytes(identity.cert_pem)
    signed = run("cap", "sign", "--key", key, "--cert", cert, cap_dir / "canada.cap")
    assert signed.returncode == 0, signed.stderr
    out = tmp_path / "signed.cap"
    out.write_text(signed.stdout)
    verified = run("cap", "verify", "--json", "--cert", cert, out)
    assert verified.returncode == 0
    assert lines(verified)[0]["certificate"] == "trusted"
    assert run("cap", "validate", out).returncode == 0


def test_sign_refuses_invalid_alert(cap_dir: Path, tmp_path: Path) -> None:
    identity = make_identity("Test Hub")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_bytes(identity.key_pem)
    cert.write_bytes(identity.cert_pem)
    result = run("cap", "sign", "--key", key, "--cert", cert, cap_dir / "invalid.cap")
    assert result.returncode == 1
    assert "alert/scope" in result.stderr
    assert result.stdout == ""


ATOM = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>'


def test_no_alert_is_not_an_invalid_signature(cap_dir: Path, tmp_path: Path) -> None:
    """An empty file, an Atom feed or a refused DTD holds no alert: "signature invalid" would
    say someone forged it. Such files are "unreadable", exit 4, in text and JSON."""
    empty, feed = tmp_path / "empty.cap", tmp_path / "feed.xml"
    empty.write_bytes(b"")
    feed.write_bytes(ATOM)
    files = (empty, feed, cap_dir / "xee.cap")
    verified = run("cap", "verify", "--json", *files)
    assert verified.returncode == 4, verified.stdout + verified.stderr
    for line in lines(verified):
        assert line["outcome"] == "unreadable" and line["signature"] is None
        assert line["verified"] is False
    text = run("cap", "verify", *files)
    assert text.returncode == 4
    assert text.stdout.count("UNREADABLE") == 3 and "signature invalid" not in text.stdout
    validated = run("cap", "validate", "--json", *files)
    assert validated.returncode == 4
    assert {line["outcome"] for line in lines(validated)} == {"unreadable"}
    # An alert whose signature fails is still "not verified", exit 1, next to a readable one.
    data = (cap_dir / "canada_signed.cap").read_bytes().replace(b"Toronto", b"Torontp", 1)
    (tmp_path / "tampered.cap").write_bytes(data)
    tampered = run("cap", "verify", "--json", tmp_path / "tampered.cap")
    assert tampered.returncode == 1
    assert lines(tampered)[0]["outcome"] == "not verified"
