"""Liberal in what real services send, strict in what the hub writes: empty optional elements
and white space around tokens are warnings (errors with ``--strict``), the hub accepts them
and stores the canonical form, and what CAP forbids stays an error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alertcommons.cap import read_alert, validate
from alertcommons.store.schema import alerts
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

CHIYODA = "city.chiyoda.tokyo.jp"


def _as_real_services_send(identifier: str | None = None) -> bytes:
    """Schema-valid CAP 1.2 with empty optional elements of each kind a national aggregator
    sends, and a polygon and web address laid out over several lines."""
    text = xml(make_alert(CHIYODA, ["131016"], identifier=identifier)).decode()
    text = text.replace("  <info>", "  <note/>\n  <references></references>\n  <info>", 1)
    text = text.replace(
        "    <area>",
        "    <description></description>\n    <web>\n      https://example.jp/a\n    </web>\n"
        "    <contact/>\n    <resource><resourceDesc>地図</resourceDesc>"
        "<mimeType>image/png</mimeType><uri>https://example.jp/m.png</uri><digest/></resource>\n"
        "    <area>",
    )
    return text.replace(
        "<areaDesc>対象地区</areaDesc>",
        "<areaDesc>対象地区</areaDesc>\n      <polygon></polygon>"
        "\n      <polygon>\n 35.69,139.75 35.69,139.76 35.68,139.76 35.69,139.75\n </polygon>"
        "\n      <circle> </circle>",
    ).encode()


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "alertcommons", "cap", "validate", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_validate_warns_and_strict_refuses(tmp_path: Path) -> None:
    path = tmp_path / "aggregator.cap"
    path.write_bytes(_as_real_services_send())
    lenient = _cli("--json", path)
    assert lenient.returncode == 0, lenient.stdout
    line = json.loads(lenient.stdout)
    assert line["valid"] is True and line["errors"] == []
    warned = {warning["path"] for warning in line["warnings"]}
    assert {
        "alert/note",
        "alert/references",
        "alert/info[1]/description",
        "alert/info[1]/contact",
        "alert/info[1]/resource[1]/digest",
        "alert/info[1]/area[1]/polygon[1]",
        "alert/info[1]/area[1]/circle[1]",
        "alert/info[1]/web",  # white space around a token
        "alert/info[1]/area[1]/polygon[2]",
    } <= warned

    strict = _cli("--strict", "--json", path)
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["valid"] is False


def test_white_space_around_a_token_alone_is_a_warning(tmp_path: Path) -> None:
    text = xml(make_alert(CHIYODA, ["131016"])).decode()
    path = tmp_path / "laid-out.cap"
    path.write_text(
        text.replace("    <area>", "    <web>\n  https://example.jp/a\n    </web>\n    <area>", 1)
    )
    lenient = _cli("--json", path)
    assert lenient.returncode == 0, lenient.stdout
    line = json.loads(lenient.stdout)
    assert [w["path"] for w in line["warnings"]] == ["alert/info[1]/web"]
    strict = _cli("--strict", path)
    assert strict.returncode == 1 and "white space around its value" in strict.stdout


def test_what_cap_forbids_stays_an_error(tmp_path: Path) -> None:
    text = _as_real_services_send().decode()
    path = tmp_path / "bad.cap"
    # An empty date-time (the schema's type forbids it) and an empty references on a Cancel.
    path.write_text(text.replace("<msgType>Alert</msgType>", "<msgType>Cancel</msgType>"))
    cancel = _cli("--json", path)
    assert cancel.returncode == 1
    assert "alert/references" in {e["path"] for e in json.loads(cancel.stdout)["errors"]}
    path.write_text(text.replace("<expires>", "<onset/><expires>", 1))
    assert _cli(path).returncode == 1


@pytest.mark.anyio
async def test_hub_accepts_and_writes_the_canonical_form(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    response = await hub.client.post(
        "/api/v1/alerts",
        content=_as_real_services_send("aggregator-1"),
        headers={**city["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id = response.json()["id"]
    row = await hub.services.store.read(
        lambda c: c.execute(alerts.select().where(alerts.c.id == alert_id)).first()
    )
    assert row is not None
    stored = bytes(row.cap_xml)
    for empty in (b"<note", b"<references", b"<description", b"<contact", b"<digest", b"<circle"):
        assert empty not in stored, empty
    assert b"<web>https://example.jp/a</web>" in stored
    assert b"<polygon>35.69,139.75 35.69,139.76 35.68,139.76 35.69,139.75</polygon>" in stored
    report = validate(read_alert(stored), strict=True)
    assert report.errors == [], report.errors
