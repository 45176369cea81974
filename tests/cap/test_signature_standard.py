"""XML-DSig as the standard has it: every signature signxml makes with its defaults and with
each algorithm verifies, and one changed character makes it invalid; a forged alert signed
under a look-alike certificate (the hub's name, another key) is never "verified"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod, XMLSigner

from alertcommons.cap.signature import verify
from alertcommons.cap.signing import SigningKey
from tests.support.certs import Identity, make_identity


def _alert(cap_dir: Path) -> etree._Element:
    return etree.fromstring((cap_dir / "weather.cap").read_bytes())


def _tampered(signed: etree._Element) -> etree._Element:
    text = etree.tostring(signed, encoding="unicode")
    changed = text.replace("<headline>", "<headline>X", 1)
    assert changed != text
    return etree.fromstring(changed)


class _AnySigner(XMLSigner):
    """signxml refuses to *make* SHA-1 signatures; real senders still send them."""

    def check_deprecated_methods(self) -> None:
        pass


def _sign_with_signxml(
    root: etree._Element, identity: Identity, **options: object
) -> etree._Element:
    signer = _AnySigner(**options)  # type: ignore[arg-type]
    signed: etree._Element = signer.sign(
        root, key=identity.key_pem, cert=[identity.cert_pem.decode()]
    )
    return signed


@pytest.fixture(scope="module")
def rsa_identity() -> Identity:
    return make_identity("CAP sender", "rsa")


@pytest.fixture(scope="module")
def ec_identity() -> Identity:
    return make_identity("CAP sender", "ec")


def test_signxml_defaults_are_canonical_xml_1_1_and_verify(
    cap_dir: Path, rsa_identity: Identity
) -> None:
    signed = _sign_with_signxml(_alert(cap_dir), rsa_identity)
    method = signed.find(".//{http://www.w3.org/2000/09/xmldsig#}CanonicalizationMethod")
    assert method is not None and "xml-c14n11" in method.get("Algorithm", "")
    result = verify(signed, [rsa_identity.certificate])
    assert (result.signature, result.certificate) == ("valid", "trusted"), result.errors
    assert verify(_tampered(signed), [rsa_identity.certificate]).signature == "invalid"


@pytest.mark.parametrize(
    "c14n", list(CanonicalizationMethod), ids=lambda m: m.value.rsplit("/", 1)[-1]
)
def test_every_canonicalization(cap_dir: Path, rsa_identity: Identity, c14n: object) -> None:
    signed = _sign_with_signxml(_alert(cap_dir), rsa_identity, c14n_algorithm=c14n)
    assert verify(signed, [rsa_identity.certificate]).signature == "valid"
    assert verify(_tampered(signed), [rsa_identity.certificate]).signature == "invalid"


_RSA = [
    SignatureMethod.RSA_SHA1,
    SignatureMethod.RSA_SHA224,
    SignatureMethod.RSA_SHA256,
    SignatureMethod.RSA_SHA384,
    SignatureMethod.RSA_SHA512,
]
_ECDSA = [
    SignatureMethod.ECDSA_SHA1,
    SignatureMethod.ECDSA_SHA224,
    SignatureMethod.ECDSA_SHA256,
    SignatureMethod.ECDSA_SHA384,
    SignatureMethod.ECDSA_SHA512,
]


@pytest.mark.parametrize("method", _RSA + _ECDSA, ids=lambda m: m.value.rsplit("#", 1)[-1])
@pytest.mark.parametrize(
    "digest",
    [DigestAlgorithm.SHA1, DigestAlgorithm.SHA256, DigestAlgorithm.SHA512],
    ids=lambda d: d.value.rsplit("#", 1)[-1],
)
def test_every_algorithm(
    cap_dir: Path,
    rsa_identity: Identity,
    ec_identity: Identity,
    method: SignatureMethod,
    digest: DigestAlgorithm,
) -> None:
    identity = rsa_identity if method in _RSA else ec_identity
    signed = _sign_with_signxml(
        _alert(cap_dir), identity, signature_algorithm=method, digest_algorithm=digest
    )
    result = verify(signed, [identity.certificate])
    assert result.signature == "valid", result.errors
    weak = "sha1" in method.value or digest is DigestAlgorithm.SHA1
    assert any("SHA-1" in note for note in result.checks[0].notes) == weak
    assert verify(_tampered(signed), [identity.certificate]).signature == "invalid"


def test_ec_key_value_without_certificate(cap_dir: Path, ec_identity: Identity) -> None:
    signer = XMLSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256)
    signed = signer.sign(_alert(cap_dir), key=ec_identity.key_pem)
    assert signed.find(".//{http://www.w3.org/2009/xmldsig11#}ECKeyValue") is not None
    result = verify(signed)
    assert result.signature == "valid" and result.certificate is None
    assert verify(_tampered(signed)).signature == "invalid"


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "alertcommons", "cap", "verify", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_look_alike_certificate_is_not_verified(cap_dir: Path, tmp_path: Path) -> None:
    hub = make_identity("Alert Commons hub", "ec")
    forger = make_identity("Alert Commons hub", "ec")  # same subject, another key
    assert forger.certificate.subject == hub.certificate.subject
    (tmp_path / "hub.pem").write_bytes(hub.cert_pem)
    genuine = SigningKey(hub.key_pem, hub.cert_pem).sign(_alert(cap_dir))
    (tmp_path / "genuine.cap").write_bytes(etree.tostring(genuine))
    edited = _tampered(_alert(cap_dir))
    forged = SigningKey(forger.key_pem, forger.cert_pem).sign(edited)
    (tmp_path / "forged.cap").write_bytes(etree.tostring(forged))

    ok = _cli("--cert", tmp_path / "hub.pem", tmp_path / "genuine.cap")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED: signature valid, certificate trusted" in ok.stdout

    refused = _cli("--cert", tmp_path / "hub.pem", tmp_path / "forged.cap")
    assert refused.returncode == 1
    assert "NOT VERIFIED: signature valid, certificate untrusted" in refused.stdout

    # Without a certificate to trust, only integrity can be checked (and exit 0 says so).
    unanchored = _cli(tmp_path / "forged.cap")
    assert unanchored.returncode == 0
