"""Signing CAP alerts: an XML-DSig enveloped signature with exclusive canonicalization.

RSA keys sign with RSA-SHA256, elliptic-curve keys with ECDSA-SHA256; the certificate (and
any chain after it in the PEM) travels in ``KeyInfo`` so a receiver can tell who signed.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner
from signxml.algorithms import CanonicalizationMethod

from alertcommons.cap.signature import SignatureError


class SigningKey:
    """A private key with its certificate chain, loaded once and used for many alerts."""

    def __init__(self, key_pem: bytes, cert_pem: bytes, password: bytes | None = None) -> None:
        try:
            key = serialization.load_pem_private_key(key_pem, password=password)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"cannot read the private key: {exc}") from None
        try:
            chain = x509.load_pem_x509_certificates(cert_pem)
        except ValueError as exc:
            raise SignatureError(f"cannot read the certificate: {exc}") from None
        if isinstance(key, rsa.RSAPrivateKey):
            self.method = SignatureMethod.RSA_SHA256
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            self.method = SignatureMethod.ECDSA_SHA256
        else:
            raise SignatureError("only RSA and elliptic-curve (ECDSA) keys can sign CAP alerts")
        if _spki(chain[0].public_key()) != _spki(key.public_key()):
            raise SignatureError("the certificate does not belong to the private key")
        self._key = key
        self.chain = chain
        self._chain_pem = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey(subject={self.certificate.subject.rfc4514_string()!r})"

    def sign(self, root: etree._Element) -> etree._Element:
        """Return a signed copy of the alert element ``root``."""
        signer = XMLSigner(
            signature_algorithm=self.method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        # signxml would name the namespace "ds"; the default namespace keeps CAP's own intact.
        signer.namespaces = {None: "http://www.w3.org/2000/09/xmldsig#"}  # type: ignore[dict-item]
        signed: etree._Element = signer.sign(root, key=self._key, cert=self._chain_pem)
        return signed


def _spki(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def sign_xml(data: bytes, key: SigningKey) -> bytes:
    """Sign a serialized alert; the signature covers exactly these bytes' content."""
    from alertcommons.cap.xmlsafe import parse_xml

    signed = key.sign(parse_xml(data))
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
