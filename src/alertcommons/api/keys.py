"""/api/v1/keys: the certificate anyone can check the hub's signatures with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from .deps import ServicesDep

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


@router.get("", summary="The hub's signing certificates")
async def list_keys(hub: ServicesDep) -> dict[str, Any]:
    certificate = hub.key.signing.certificate
    return {
        "keys": [
            {
                "id": hub.key.key_id,
                "algorithm": hub.key.signing.algorithm,
                "subject": certificate.subject.rfc4514_string(),
                "not_before": certificate.not_valid_before_utc.isoformat(),
                "not_after": certificate.not_valid_after_utc.isoformat(),
                "certificate": hub.key.cert_pem.decode(),
            }
        ]
    }


@router.get(
    "/current.pem",
    summary="The current signing certificate as PEM",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
async def current_pem(hub: ServicesDep) -> Response:
    return Response(content=hub.key.cert_pem, media_type="application/x-pem-file")
