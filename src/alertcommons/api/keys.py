"""/api/v1/keys: the certificate anyone can check the hub's signatures with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from alertcommons.hub import keys

from .deps import ServicesDep

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


@router.get("", summary="The hub's signing certificates: the current one first, then earlier")
async def list_keys(hub: ServicesDep) -> dict[str, Any]:
    return {"keys": await keys.listed(hub)}


@router.get(
    "/current.pem",
    summary="The current signing certificate as PEM",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
async def current_pem(hub: ServicesDep) -> Response:
    return Response(content=hub.key.cert_pem, media_type="application/x-pem-file")
