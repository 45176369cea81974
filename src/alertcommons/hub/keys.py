"""The hub's signing keys: remember the current one, list them all, and the certificates a
stored alert's signature is checked against (the API's /api/v1/keys and the public pages)."""

from __future__ import annotations

from typing import Any

from cryptography import x509

from alertcommons.hub.services import Services
from alertcommons.hub.signer import HubKey
from alertcommons.store import keys as hub_keys
from alertcommons.store.engine import Store


def remember(store: Store, key: HubKey) -> None:
    """Record the key in use, so alerts it signed still verify after a rotation."""
    store.run_write(
        lambda c: hub_keys.remember(c, key.key_id, key.cert_pem.decode(), key.signing.algorithm)
    )


async def listed(hub: Services) -> list[dict[str, Any]]:
    """The signing certificates: the current one first, then earlier ones."""
    rows = await hub.store.read(hub_keys.all_keys)
    found = [(hub.key.key_id, hub.key.signing.algorithm, hub.key.cert_pem.decode(), None)]
    found += [
        (row.id, row.algorithm, row.certificate, row.first_used_at)
        for row in rows
        if row.id != hub.key.key_id
    ]
    keys = []
    for key_id, algorithm, pem, first_used in found:
        certificate = x509.load_pem_x509_certificate(pem.encode())
        keys.append(
            {
                "id": key_id,
                "current": key_id == hub.key.key_id,
                "algorithm": algorithm,
                "subject": certificate.subject.rfc4514_string(),
                "not_before": certificate.not_valid_before_utc.isoformat(),
                "not_after": certificate.not_valid_after_utc.isoformat(),
                "first_used_at": first_used.isoformat() if first_used else None,
                "certificate": pem,
            }
        )
    return keys


async def trusted_certificates(hub: Services) -> list[x509.Certificate]:
    """Every certificate the hub has signed with, for checking stored alerts."""
    rows = await hub.store.read(hub_keys.all_keys)
    found = [hub.key.signing.certificate]
    found += [
        x509.load_pem_x509_certificate(row.certificate.encode())
        for row in rows
        if row.id != hub.key.key_id
    ]
    return found
