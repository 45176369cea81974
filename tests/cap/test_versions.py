"""CAP 1.0 and 1.1 are brought up to 1.2, and every change is noted."""

from __future__ import annotations

from alertcommons.cap import ValuePair, read_alert, to_xml, validate

CAP10 = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="http://www.incident.com/cap/1.0">
  <identifier>KSTO1055887203</identifier>
  <sender>KSTO@NWS.NOAA.GOV</sender>
  <password>secret</password>
  <sent>2003-06-17T14:57:00-07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Met</category>
    <event>SEVERE THUNDERSTORM</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Very Likely</certainty>
    <eventCode>SAME=SVR</eventCode>
    <area>
      <areaDesc>EXTREME NORTH CENTRAL TUOLUMNE COUNTY</areaDesc>
      <geocode>FIPS6=006109</geocode>
    </area>
  </info>
</alert>"""


def test_cap10_is_upgraded_with_notes() -> None:
    parsed = read_alert(CAP10)
    assert parsed.version == "1.0"
    info = parsed.alert.infos[0]
    assert info.certainty == "Likely"
    assert info.event_codes == [ValuePair("SAME", "SVR")]
    assert info.areas[0].geocodes == [ValuePair("FIPS6", "006109")]
    notes = " ".join(parsed.notes)
    assert "password" in notes
    assert "Very Likely" in notes
    assert "valueName/value" in notes
    assert validate(parsed).valid
    # Written back, it is plain CAP 1.2 with no trace of the 1.0 password.
    xml = to_xml(parsed.alert)
    assert b"urn:oasis:names:tc:emergency:cap:1.2" in xml
    assert b"secret" not in xml


def test_cap11_very_likely_becomes_likely() -> None:
    document = CAP10.replace(
        b"http://www.incident.com/cap/1.0", b"urn:oasis:names:tc:emergency:cap:1.1"
    )
    document = document.replace(b"<password>secret</password>", b"")
    document = document.replace(b"<eventCode>SAME=SVR</eventCode>", b"")
    document = document.replace(
        b"<geocode>FIPS6=006109</geocode>",
        b"<geocode><valueName>FIPS6</valueName><value>006109</value></geocode>",
    )
    parsed = read_alert(document)
    assert parsed.version == "1.1"
    assert parsed.alert.infos[0].certainty == "Likely"
    assert validate(parsed).valid


def test_unknown_elements_are_reported_not_dropped() -> None:
    document = CAP10.replace(
        b"http://www.incident.com/cap/1.0", b"urn:oasis:names:tc:emergency:cap:1.2"
    )
    document = document.replace(b"<password>secret</password>", b"<colour>red</colour>")
    errors = {p.path: p.message for p in validate(read_alert(document)).errors}
    assert "not a CAP element" in errors["alert/colour[1]"]


def test_very_likely_in_cap12_is_an_error_not_rewritten() -> None:
    document = CAP10.replace(
        b"http://www.incident.com/cap/1.0", b"urn:oasis:names:tc:emergency:cap:1.2"
    ).replace(b"<password>secret</password>", b"")
    parsed = read_alert(document)
    assert parsed.alert.infos[0].certainty == "Very Likely"
    errors = {p.path: p.message for p in validate(parsed).errors}
    assert "Observed" in errors["alert/info[1]/certainty"]
