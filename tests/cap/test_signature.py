"""XML signatures: real signed samples verify; any change breaks them; our own signatures hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree
from signxml import XMLVerifier

from alertcommons.cap.certificates import load_certificates_pem
from alertcommons.cap.signature import SignatureError, verify
from alertcommons.cap.signing import SigningKey, sign_xml
from tests.support.certs import Identity, make_identity


@pytest.fixture(scope="module")
def shipped_certs(cap_dir: Path) -> list[x509.Certificate]:
    return load_certificates_pem(cap_dir / "naads_x509_cert.pem") + load_certificates_pem(
        cap_dir / "environment_canada_x509_cert.pem"
    )


def _root(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def test_canada_signed_verifies_with_shipped_certificates(
    cap_dir: Path, shipped_certs: list[x509.Certificate]
) -> None:
    result = verify(_root(cap_dir / "canada_signed.cap"), shipped_certs)
    assert result.signature == "valid"
    assert [check.signature for check in result.checks] == ["valid", "valid"]
    # Both certificates are the given ones, and both had expired by now.
    assert result.certificate == "expired"
    signers = {check.signer for check in result.checks}
    assert any("Pelmorex" in (s or "") for s in signers)
    assert any("Environment Canada" in (s or "") for s in signers)


def test_canada_signed_trusted_at_the_time_it_was_sent(
    cap_dir: Path, shipped_certs: list[x509.Certificate]
) -> None:
    sent = datetime(2013, 1, 24, 21, 26, tzinfo=UTC)
    result = verify(_root(cap_dir / "canada_signed.cap"), shipped_certs, at=sent)
    assert result.certificate == "trusted"


def test_canada_signed_without_certificates_is_untrusted(cap_dir: Path) -> None:
    result = verify(_root(cap_dir / "canada_signed.cap"))
    assert result.signature == "valid"
    assert result.certificate == "untrusted"


def test_earthquake_signed_verifies_with_its_key_value(
    cap_dir: Path, shipped_certs: list[x509.Certificate]
) -> None:
    result = verify(_root(cap_dir / "earthquake_signed.cap"), shipped_certs)
    assert result.signature == "valid"
    assert result.certificate is None  # a bare key: nobody's certificate vouches for it


def test_unsigned_alert_is_absent(cap_dir: Path) -> None:
    assert verify(_root(cap_dir / "canada.cap")).signature == "absent"


@pytest.mark.parametrize("name", ["canada_signed.cap", "earthquake_signed.cap"])
def test_one_changed_character_makes_it_invalid(cap_dir: Path, name: str) -> None:
    data = (cap_dir / name).read_bytes()
    start = data.index(b"<sender>") + len(b"<sender>")
    tampered = data[:start] + bytes([data[start] ^ 0x01]) + data[start + 1 :]
    result = verify(etree.fromstring(tampered))
    assert result.signature == "invalid"
    assert any("changed" in error for error in result.errors)


def test_changed_signature_value_is_invalid(cap_dir: Path) -> None:
    data = (cap_dir / "earthquake_signed.cap").read_bytes()
    start = data.index(b"<SignatureValue>") + len(b"<SignatureValue>")
    flipped = b"A" if data[start : start + 1] != b"A" else b"B"
    result = verify(etree.fromstring(data[:start] + flipped + data[start + 1 :]))
    assert result.signature == "invalid"
    assert any("signature value" in error for error in result.errors)


@pytest.fixture(scope="module")
def ca() -> Identity:
    return make_identity("Alert Commons Test Root", ca=True)


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_sign_and_verify_round_trip(cap_dir: Path, ca: Identity, kind: str) -> None:
    hub = make_identity(f"hub-{kind}", kind, issuer=ca)
    key = SigningKey(hub.key_pem, hub.cert_pem)
    signed = sign_xml((cap_dir / "canada.cap").read_bytes(), key)
    result = verify(etree.fromstring(signed), [ca.certificate])
    assert (result.signature, result.certificate) == ("valid", "trusted")
    assert result.signer == f"CN=hub-{kind}"
    # An independent implementation agrees.
    XMLVerifier().verify(signed, x509_cert=hub.cert_pem.decode())
    method = "rsa-sha256" if kind == "rsa" else "ecdsa-sha256"
    assert method.encode() in signed
    assert b"xml-exc-c14n#" in signed


def test_certificate_verdicts(cap_dir: Path, ca: Identity) -> None:
    data = (cap_dir / "canada.cap").read_bytes()
    stranger_ca = make_identity("Someone Else", ca=True)
    past = datetime.now(UTC) - timedelta(days=400)
    expired = make_identity("old-hub", issuer=ca, not_before=past, not_after=past + timedelta(1))
    trusted_leaf = make_identity("hub", issuer=ca)
    stranger = make_identity("stranger", issuer=stranger_ca)

    def verdict(identity: Identity) -> tuple[str, str | None]:
        signed = sign_xml(data, SigningKey(identity.key_pem, identity.cert_pem))
        result = verify(etree.fromstring(signed), [ca.certificate])
        return result.signature, result.certificate

    assert verdict(trusted_leaf) == ("valid", "trusted")
    assert verdict(stranger) == ("valid", "untrusted")
    assert verdict(expired) == ("valid", "expired")


def test_malformed_embedded_certificate(cap_dir: Path, ca: Identity) -> None:
    hub = make_identity("hub", issuer=ca)
    signed = sign_xml((cap_dir / "canada.cap").read_bytes(), SigningKey(hub.key_pem, hub.cert_pem))
    root = etree.fromstring(signed)
    node = root.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    assert node is not None
    node.text = "bm90IGEgY2VydGlmaWNhdGU="  # base64 of "not a certificate"
    result = verify(root, [ca.certificate])
    assert result.certificate == "malformed"
    assert result.signature == "invalid"


def test_signature_over_whitespace_stripped_alert_verifies(cap_dir: Path, ca: Identity) -> None:
    # Some national services strip indentation, sign, and send the alert re-indented.
    hub = make_identity("hub", issuer=ca)
    parser = etree.XMLParser(remove_blank_text=True)
    compact = etree.tostring(etree.fromstring((cap_dir / "canada.cap").read_bytes(), parser))
    signed = sign_xml(compact, SigningKey(hub.key_pem, hub.cert_pem))
    root = etree.fromstring(signed)
    etree.indent(root, space="    ")
    result = verify(root, [ca.certificate])
    assert result.signature == "valid"
    assert any("indentation" in note for note in result.checks[0].notes)
    # Re-indenting does not open a hole: a changed value still fails.
    root.find("{urn:oasis:names:tc:emergency:cap:1.2}status").text = "Exercise"  # type: ignore[union-attr]
    assert verify(root, [ca.certificate]).signature == "invalid"


def test_signing_key_refuses_mismatched_certificate(ca: Identity) -> None:
    one, other = make_identity("one", issuer=ca), make_identity("other", issuer=ca)
    with pytest.raises(SignatureError, match="does not belong"):
        SigningKey(one.key_pem, other.cert_pem)
    with pytest.raises(SignatureError, match="private key"):
        SigningKey(b"not a key", one.cert_pem)
    assert "BEGIN" not in repr(SigningKey(one.key_pem, one.cert_pem))
