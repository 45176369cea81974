"""The hub's signing key: configured files, or made on first start for the embedded default."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alertcommons.cap.signing import SigningKey
from alertcommons.errors import AlertCommonsError


class SigningKeyError(AlertCommonsError):
    """A configured signing key or certificate is missing."""


@dataclass(frozen=True, slots=True)
class HubKey:
    signing: SigningKey
    cert_pem: bytes

    @property
    def key_id(self) -> str:
        der = self.signing.certificate.public_bytes(serialization.Encoding.DER)
        return hashlib.sha256(der).hexdigest()[:16]


def load_or_create(key_path: Path, cert_path: Path, *, create: bool, name: str) -> HubKey:
    if not key_path.exists() or not cert_path.exists():
        if not create:
            raise SigningKeyError(
                f"the signing key {key_path} or its certificate {cert_path} does not exist "
                "(ALERTCOMMONS_SIGNING_KEY / ALERTCOMMONS_SIGNING_CERT name files to use as "
                "they are; leave them unset to have the hub make its own)"
            )
        _create(key_path, cert_path, name)
    return from_pem(key_path.read_bytes(), cert_path.read_bytes())


def _create(key_path: Path, cert_path: Path, name: str) -> None:
    key_bytes, cert_pem = new_key(name)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    cert_path.write_bytes(cert_pem)


def from_pem(key_pem: bytes, cert_pem: bytes) -> HubKey:
    return HubKey(SigningKey(key_pem, cert_pem), cert_pem)


def new_key(name: str) -> tuple[bytes, bytes]:
    """A new P-256 key and its self-signed certificate, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Alert Commons"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_bytes, certificate.public_bytes(serialization.Encoding.PEM)
