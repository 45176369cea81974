"""``cap convert`` keeps signatures: the JSON carries the signed XML (``signedXml``), which
``cap verify`` checks and ``convert --to xml`` gives back; JSON whose members were changed is
refused; a signature that cannot be kept is dropped loudly on standard error."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from alertcommons.cap.signing import SigningKey
from tests.cap.test_cli import run
from tests.support.certs import make_identity


def test_signed_alert_converts_both_ways_with_its_signature(cap_dir: Path, tmp_path: Path) -> None:
    identity = make_identity("Test Hub", "ec")
    cert = tmp_path / "cert.pem"
    cert.write_bytes(identity.cert_pem)
    signed = SigningKey(identity.key_pem, identity.cert_pem).sign(
        etree.fromstring((cap_dir / "canada.cap").read_bytes())
    )
    original = tmp_path / "signed.cap"
    original.write_bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))

    as_json = run("cap", "convert", "--to", "json", original)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert "SignatureValue" in document["signedXml"]
    json_file = tmp_path / "signed.json"
    json_file.write_text(as_json.stdout)
    checked = run("cap", "verify", "--cert", cert, json_file)
    assert checked.returncode == 0 and "VERIFIED" in checked.stdout, checked.stdout

    back = run("cap", "convert", "--to", "xml", json_file)
    assert back.returncode == 0, back.stderr
    round_trip = tmp_path / "back.cap"
    round_trip.write_text(back.stdout)
    again = run("cap", "verify", "--cert", cert, round_trip)
    assert again.returncode == 0, again.stdout
    same = run("cap", "convert", "--to", "xml", original)
    assert same.returncode == 0 and "Signature" in same.stdout

    # A reader who edits the members cannot keep the signature's word for them.
    document["info"][0]["headline"] = "changed"
    json_file.write_text(json.dumps(document, ensure_ascii=False))
    refused = run("cap", "convert", "--to", "xml", json_file)
    assert refused.returncode == 1 and "differ from its signedXml" in refused.stderr


def test_signature_that_cannot_be_kept_is_dropped_loudly(cap_dir: Path, tmp_path: Path) -> None:
    identity = make_identity("Test Hub", "ec")
    signed = SigningKey(identity.key_pem, identity.cert_pem).sign(
        etree.fromstring((cap_dir / "earthquake.cap").read_bytes())  # CAP 1.1
    )
    path = tmp_path / "signed11.cap"
    path.write_bytes(etree.tostring(signed))
    result = run("cap", "convert", "--to", "xml", path)
    assert result.returncode == 0, result.stderr
    assert "signature is DROPPED" in result.stderr
