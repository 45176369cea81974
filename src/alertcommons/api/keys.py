"""/api/v1/keys: the certificate anyone can check the hub's signatures with."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from fastapi import APIRouter, Response

from alertcommons.store import keys as hub_keys

from .deps import ServicesDep

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


@router.get("", summary="The hub's signing certificates: the current one first, then earlier")
async def list_keys(hub: ServicesDep) -> dict[str, Any]:
    rows = await hub.store.read(hub_keys.all_keys)
    listed = [(hub.key.key_id, hub.key.signing.algorithm, hub.key.cert_pem.decode(), None)]
    listed += [
        (row.id, row.algorithm, row.certificate, row.first_used_at)
        for row in rows
        if row.id != hub.key.key_id
    ]
    keys = []
    for key_id, algorithm, pem, first_used in listed:
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
    return {"keys": keys}


async def trusted_certificates(hub: Any) -> list[x509.Certificate]:
    """Every certificate the hub has signed with, for checking stored alerts."""
    rows = await hub.store.read(hub_keys.all_keys)
    found = [hub.key.signing.certificate]
    found += [
        x509.load_pem_x509_certificate(row.certificate.encode())
        for row in rows
        if row.id != hub.key.key_id
    ]
    return found


@router.get(
    "/current.pem",
    summary="The current signing certificate as PEM",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
async def current_pem(hub: ServicesDep) -> Response:
    return Response(content=hub.key.cert_pem, media_type="application/x-pem-file")
