"""X.509 certificates behind signatures: loading, naming, and judging trust."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

_MAX_CHAIN = 8


@dataclass(frozen=True, slots=True)
class CertificateVerdict:
    status: str  # "trusted" | "untrusted" | "expired" | "malformed"
    subject: str | None


def load_certificate_der(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def load_certificates_pem(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file; ``ValueError`` if there is none or one is broken."""
    certificates = x509.load_pem_x509_certificates(path.read_bytes())
    if not certificates:
        raise ValueError(f"{path} holds no PEM certificate")
    return certificates


def summary(certificate: x509.Certificate) -> dict[str, str]:
    """Subject and SHA-256 fingerprint: how a list or a log names a certificate."""
    digest = certificate.fingerprint(hashes.SHA256()).hex()
    return {"subject": certificate.subject.rfc4514_string(), "sha256": digest}


def signer_name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def judge_certificate(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    trusted: list[x509.Certificate],
    at: datetime,
) -> CertificateVerdict:
    """Trusted if ``leaf`` is, or chains through ``intermediates`` to, a trusted certificate.

    A chain that reaches a trusted certificate but has a link outside its validity period at
    ``at`` is reported ``expired``; this is a check of signatures, not full RFC 5280 path
    validation (no revocation look-ups: the hub has no network to ask).
    """
    try:
        subject = signer_name(leaf)
    except ValueError:
        return CertificateVerdict("malformed", None)
    chain = _chain_to_trusted(leaf, intermediates, trusted)
    if chain is None:
        return CertificateVerdict("untrusted", subject)
    for certificate in chain:
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            return CertificateVerdict("expired", subject)
    return CertificateVerdict("trusted", subject)


def _chain_to_trusted(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    trusted: list[x509.Certificate],
) -> list[x509.Certificate] | None:
    chain = [leaf]
    current = leaf
    for _ in range(_MAX_CHAIN):
        if current in trusted:
            return chain
        issuer = _issuer_among(current, trusted) or _issuer_among(current, intermediates)
        if issuer is None or issuer in chain:
            return None
        chain.append(issuer)
        current = issuer
    return None


def _issuer_among(
    certificate: x509.Certificate, candidates: list[x509.Certificate]
) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None
