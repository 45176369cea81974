"""XML-DSig enveloped signatures on CAP alerts: sign, and verify with a clear verdict.

Verification answers two questions separately, because a resident and an integrator need
both: does the signature hold (the digest of the alert and the signature value over
``SignedInfo``), and who stands behind the key (a certificate trusted by the roots we were
given, untrusted, expired, or unreadable).

What real senders do that a strict reading of XML-DSig would reject, and we accept:

* several signatures made *in parallel* over the bare alert (each ``enveloped-signature``
  transform should remove only its own ``Signature``, but co-signers sign the alert alone);
* signatures computed over the alert with the indentation stripped, then sent indented.

Verification is our own code over lxml's canonicalization and ``cryptography`` so that each
step's outcome can be reported; signing uses ``signxml``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from lxml import etree

from alertcommons.cap.certificates import (
    CertificateVerdict,
    PublicKey,
    judge_certificate,
    load_certificate_der,
)
from alertcommons.errors import AlertCommonsError

DS = "http://www.w3.org/2000/09/xmldsig#"
DS11 = "http://www.w3.org/2009/xmldsig11#"
ENVELOPED = f"{DS}enveloped-signature"

C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
# (exclusive, with comments). Canonical XML 1.1 differs from 1.0 only in how xml:id and
# xml:base are inherited into a document subset; a SignedInfo or alert carrying those is
# refused below rather than canonicalized as 1.0.
_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    C14N11: (False, False),
    f"{C14N11}#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_DIGESTS = {
    f"{DS}sha1": hashlib.sha1,
    "http://www.w3.org/2001/04/xmldsig-more#sha224": hashlib.sha224,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}
_SIGNATURE_METHODS: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    f"{DS}rsa-sha1": ("rsa", hashes.SHA1()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224": ("rsa", hashes.SHA224()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ecdsa", hashes.SHA1()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224": ("ecdsa", hashes.SHA224()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ecdsa", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ecdsa", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ecdsa", hashes.SHA512()),
}
_LEGACY = {f"{DS}sha1", f"{DS}rsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"}


class SignatureError(AlertCommonsError):
    """Signing could not be done (bad key, certificate, or document)."""


@dataclass(slots=True)
class SignatureCheck:
    """The verdict on one ``Signature`` element."""

    signature: str = "invalid"  # "valid" | "invalid"
    certificate: str | None = None  # "trusted" | "untrusted" | "expired" | "malformed" | None
    signer: str | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class VerifyResult:
    """The verdict on a whole document: ``absent`` when it carries no signature."""

    signature: str
    certificate: str | None
    signer: str | None
    errors: list[str]
    checks: list[SignatureCheck]

    @property
    def holds(self) -> bool:
        return self.signature == "valid"


def verify(
    root: etree._Element,
    trusted: list[x509.Certificate] | None = None,
    *,
    at: datetime | None = None,
) -> VerifyResult:
    """Verify every enveloped signature directly under ``root`` (a CAP ``alert``)."""
    signatures = [child for child in root if child.tag == f"{{{DS}}}Signature"]
    if not signatures:
        return VerifyResult("absent", None, None, ["the alert carries no XML signature"], [])
    moment = at or datetime.now(UTC)
    checks = [_verify_one(root, index, trusted or [], moment) for index in range(len(signatures))]
    failed = [check for check in checks if check.signature != "valid"]
    lead = failed[0] if failed else checks[0]
    errors = [f"signature {n}: {e}" for n, c in enumerate(checks, 1) for e in c.errors]
    return VerifyResult(
        "invalid" if failed else "valid", lead.certificate, lead.signer, errors, checks
    )


def _verify_one(
    root: etree._Element, index: int, trusted: list[x509.Certificate], at: datetime
) -> SignatureCheck:
    check = SignatureCheck()
    signature = [child for child in root if child.tag == f"{{{DS}}}Signature"][index]
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    value_text = signature.findtext(f"{{{DS}}}SignatureValue")
    if signed_info is None or value_text is None:
        check.errors.append("Signature lacks SignedInfo or SignatureValue")
        return check
    c14n_alg = _algorithm(signed_info, "CanonicalizationMethod")
    method_alg = _algorithm(signed_info, "SignatureMethod")
    if c14n_alg not in _C14N:
        check.errors.append(f"unsupported canonicalization {c14n_alg!r}")
        return check
    if method_alg not in _SIGNATURE_METHODS:
        check.errors.append(f"unsupported signature method {method_alg!r}")
        return check
    if c14n_alg.startswith(C14N11) and _uses_inherited_xml_attributes(root):
        check.errors.append("Canonical XML 1.1 with xml:id or xml:base is not supported")
        return check
    weak_digest = any(
        _algorithm(reference, "DigestMethod") in _LEGACY
        for reference in signed_info.iterfind(f"{{{DS}}}Reference")
    )
    if method_alg in _LEGACY or weak_digest:
        check.notes.append("uses SHA-1, which is no longer considered strong")
    try:
        signature_value = base64.b64decode("".join(value_text.split()), validate=True)
    except (binascii.Error, ValueError):
        check.errors.append("SignatureValue is not base64")
        return check

    key, certificate_verdict = _signing_key(signature, trusted, at, check)
    if certificate_verdict is not None:
        check.certificate = certificate_verdict.status
        check.signer = certificate_verdict.subject
    if key is None:
        check.errors.append("no key to check the signature with (no certificate or key value)")
        return check

    exclusive, comments = _C14N[c14n_alg]
    for variant in _variants(root, index):
        variant_info = variant.signature.find(f"{{{DS}}}SignedInfo")
        assert variant_info is not None
        digest_error = _check_references(variant.document, variant_info)
        if digest_error:
            if not check.errors:
                check.errors.append(digest_error)
            continue
        canonical = etree.tostring(
            _detached(variant_info), method="c14n", exclusive=exclusive, with_comments=comments
        )
        if _signature_holds(key, _SIGNATURE_METHODS[method_alg], signature_value, canonical):
            check.signature = "valid"
            check.errors.clear()
            if variant.note:
                check.notes.append(variant.note)
            return check
        check.errors[:] = ["the signature value does not match SignedInfo for this key"]
    return check


@dataclass(slots=True)
class _Variant:
    signature: etree._Element  # the Signature whose SignedInfo is canonicalized
    document: etree._Element  # the alert as the digest was taken: signatures removed
    note: str | None


def _variants(root: etree._Element, index: int) -> list[_Variant]:
    """The readings of the document under which the signature may hold, strictest first."""
    signatures = [c for c in root if c.tag == f"{{{DS}}}Signature"]
    mine = signatures[index]
    out = [_Variant(mine, _without(root, [mine]), None)]
    if len(signatures) > 1:
        note = "co-signed in parallel: the other signatures were not part of what it signed"
        out.append(_Variant(mine, _without(root, signatures), note))
    stripped = copy.deepcopy(root)
    _strip_whitespace(stripped)
    stripped_signatures = [c for c in stripped if c.tag == f"{{{DS}}}Signature"]
    out.append(
        _Variant(
            stripped_signatures[index],
            _without(stripped, stripped_signatures),
            "signed over the alert with its indentation removed",
        )
    )
    return out


def _without(root: etree._Element, signatures: list[etree._Element]) -> etree._Element:
    """A copy of ``root`` with the given child signatures removed (enveloped transform)."""
    positions = [list(root).index(s) for s in signatures]
    document = copy.deepcopy(root)
    children = list(document)
    for position in sorted(positions, reverse=True):
        _remove_keep_tail(children[position])
    return document


def _detached(element: etree._Element) -> etree._Element:
    """``element`` as the root of its own document, with every namespace in scope declared.

    libxml2 canonicalizes a sub-element with spurious ``xmlns=""`` on its descendants; a
    detached copy carrying the inherited declarations canonicalizes as XML-DSig requires.
    """
    nsmap: Any = element.nsmap  # includes the default namespace, keyed None
    attributes: Any = dict(element.attrib)
    detached = etree.Element(element.tag, attrib=attributes, nsmap=nsmap)
    detached.text = element.text
    for child in element:
        detached.append(copy.deepcopy(child))
    return detached


def _remove_keep_tail(element: etree._Element) -> None:
    # The enveloped-signature transform removes the element, not the text that follows it.
    parent = element.getparent()
    assert parent is not None
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _strip_whitespace(root: etree._Element) -> None:
    for node in root.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None


def _uses_inherited_xml_attributes(root: etree._Element) -> bool:
    names = (f"{{{_XML_NS}}}id", f"{{{_XML_NS}}}base")
    return any(node.get(name) is not None for node in root.iter() for name in names)


def _algorithm(parent: etree._Element, name: str) -> str:
    node = parent.find(f"{{{DS}}}{name}")
    return node.get("Algorithm", "") if node is not None else ""


def _check_references(document: etree._Element, signed_info: etree._Element) -> str | None:
    references = signed_info.findall(f"{{{DS}}}Reference")
    if not references:
        return "SignedInfo has no Reference"
    for reference in references:
        uri = reference.get("URI")
        if uri not in ("", None):
            return f"Reference URI {uri!r} is not the whole alert; only enveloped signatures count"
        transform_nodes = reference.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")
        transforms = [node.get("Algorithm", "") for node in transform_nodes]
        if ENVELOPED not in transforms:
            return "Reference lacks the enveloped-signature transform"
        exclusive = False
        for transform in transforms:
            if transform == ENVELOPED:
                continue
            if transform not in _C14N:
                return f"unsupported transform {transform!r}"
            exclusive = _C14N[transform][0]
        digest_alg = _algorithm(reference, "DigestMethod")
        digest = _DIGESTS.get(digest_alg)
        if digest is None:
            return f"unsupported digest method {digest_alg!r}"
        # A same-document reference (URI="") selects the document without its comments,
        # whatever the canonicalization says. Some signers digest them anyway: accepted,
        # since the comments are then covered by the signature too.
        expected = "".join((reference.findtext(f"{{{DS}}}DigestValue") or "").split())
        if not any(
            base64.b64encode(
                digest(
                    etree.tostring(
                        document, method="c14n", exclusive=exclusive, with_comments=comments
                    )
                ).digest()
            ).decode()
            == expected
            for comments in (False, True)
        ):
            return "the alert's content does not match the signed digest (it was changed)"
    return None


def _signature_holds(
    key: PublicKey, method: tuple[str, hashes.HashAlgorithm], value: bytes, data: bytes
) -> bool:
    family, algorithm = method
    try:
        if family == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), algorithm)
            return True
        if family == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            der = utils.encode_dss_signature(
                int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big")
            )
            key.verify(der, data, ec.ECDSA(algorithm))
            return True
    except InvalidSignature:
        return False
    return False


def _signing_key(
    signature: etree._Element,
    trusted: list[x509.Certificate],
    at: datetime,
    check: SignatureCheck,
) -> tuple[PublicKey | None, CertificateVerdict | None]:
    """Find the key: the embedded certificate, else a trusted one, else the bare key value."""
    embedded: list[x509.Certificate] = []
    for node in signature.iterfind(f".//{{{DS}}}X509Certificate"):
        try:
            der = base64.b64decode("".join((node.text or "").split()), validate=True)
            embedded.append(load_certificate_der(der))
        except (binascii.Error, ValueError) as exc:
            check.errors.append(f"embedded certificate cannot be read: {exc}")
            return None, CertificateVerdict("malformed", None)
    if embedded:
        leaf = embedded[0]
        return _public_key(leaf), judge_certificate(leaf, embedded[1:], trusted, at)
    key_value = _key_value(signature)
    for certificate in trusted:
        candidate = _public_key(certificate)
        if key_value is None or _same_key(candidate, key_value):
            return candidate, judge_certificate(certificate, [], trusted, at)
    if key_value is not None:
        check.notes.append("key given as a bare KeyValue: no certificate names who holds it")
        return key_value, None
    return None, None


def _public_key(certificate: x509.Certificate) -> PublicKey | None:
    key = certificate.public_key()
    return key if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) else None


def _same_key(a: PublicKey | None, b: PublicKey) -> bool:
    return a is not None and a.public_numbers() == b.public_numbers()


_CURVES: dict[str, ec.EllipticCurve] = {
    "urn:oid:1.2.840.10045.3.1.7": ec.SECP256R1(),
    "urn:oid:1.3.132.0.34": ec.SECP384R1(),
    "urn:oid:1.3.132.0.35": ec.SECP521R1(),
}


def _key_value(signature: etree._Element) -> PublicKey | None:
    ec_value = signature.find(f".//{{{DS}}}KeyValue/{{{DS11}}}ECKeyValue")
    if ec_value is not None:
        return _ec_key_value(ec_value)
    rsa_value = signature.find(f".//{{{DS}}}KeyValue/{{{DS}}}RSAKeyValue")
    if rsa_value is None:
        return None
    try:
        modulus = _b64_int(rsa_value.findtext(f"{{{DS}}}Modulus"))
        exponent = _b64_int(rsa_value.findtext(f"{{{DS}}}Exponent"))
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except (binascii.Error, ValueError):
        return None


def _b64_int(text: str | None) -> int:
    return int.from_bytes(base64.b64decode("".join((text or "").split()), validate=True), "big")


def _ec_key_value(node: etree._Element) -> PublicKey | None:
    """An XML-DSig 1.1 ``ECKeyValue``: a named curve and the uncompressed public point."""
    curve_node = node.find(f"{{{DS11}}}NamedCurve")
    curve = _CURVES.get(curve_node.get("URI", "") if curve_node is not None else "")
    if curve is None:
        return None
    try:
        point = base64.b64decode("".join((node.findtext(f"{{{DS11}}}PublicKey") or "").split()))
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    except (binascii.Error, ValueError):
        return None
