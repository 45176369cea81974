"""/api/v1/sites: a receiver's sites, each reached by several endpoints (routes) in order."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from alertcommons.hub import sites

from .deps import PrincipalDep, ServicesDep
from .endpoints import require_receiver

router = APIRouter(prefix="/api/v1/sites", tags=["endpoints"])


@router.get("", summary="Your receiving sites and their routes (an admin sees all)")
async def list_sites(hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    return {"items": await sites.listing(hub, caller)}


@router.put("/{name}", summary="Set how long a site's route may go unacknowledged")
async def put_site(
    name: str,
    hub: ServicesDep,
    caller: PrincipalDep,
    response: Response,
    body: Annotated[dict[str, Any], Body(examples=[{"ack_timeout_s": 30}])],
) -> dict[str, Any]:
    require_receiver(caller)
    site, made = await sites.configure(hub, caller, name, body)
    if made:
        response.status_code = 201
    return site
