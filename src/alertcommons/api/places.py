"""/api/v1/jp/districts and /api/v1/jp/shelters/registered: a municipality's registered
districts and designated evacuation sites, imported from files and listed as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from alertcommons.hub import places
from alertcommons.jp.codes import name_of
from alertcommons.problems import UnsupportedMediaType

from .deps import PrincipalDep, ServicesDep

router = APIRouter(prefix="/api/v1/jp", tags=["japan"])

CodeQuery = Annotated[str, Query(description="local-government code, 5 or 6 digits")]
_FILE_TYPES = ("text/csv", "application/csv", "application/geo+json", "application/json")


def _file_body(types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {kind: {"schema": {"type": "string"}} for kind in types},
        }
    }


def _content_type(request: Request, accepted: tuple[str, ...]) -> str:
    given = request.headers.get("content-type", "")
    if given.split(";")[0].strip().lower() not in accepted:
        raise UnsupportedMediaType(f"send the file as {', '.join(accepted)}")
    return given


@router.post(
    "/districts/import",
    summary="Replace a municipality's registered districts with a GeoJSON file",
    openapi_extra=_file_body(_FILE_TYPES[2:]),
)
async def import_districts(
    request: Request, hub: ServicesDep, caller: PrincipalDep, code: CodeQuery
) -> dict[str, Any]:
    _content_type(request, _FILE_TYPES[2:])
    outcome = await places.import_districts(hub, caller, code, await request.body())
    return outcome.as_dict()


@router.post(
    "/shelters/import",
    summary="Replace a municipality's designated evacuation sites with a CSV or GeoJSON file",
    openapi_extra=_file_body(_FILE_TYPES),
)
async def import_shelters(
    request: Request,
    hub: ServicesDep,
    caller: PrincipalDep,
    code: CodeQuery,
    kind: Annotated[
        Literal["emergency_site", "shelter"] | None,
        Query(description="the list the file is, when its columns do not say"),
    ] = None,
) -> dict[str, Any]:
    content_type = _content_type(request, _FILE_TYPES)
    outcome = await places.import_sites(hub, caller, code, await request.body(), content_type, kind)
    return outcome.as_dict()


@router.get("/districts", summary="A municipality's registered districts (GeoJSON)")
async def list_districts(hub: ServicesDep, code: CodeQuery) -> dict[str, Any]:
    canonical = places.municipality(code)
    rows = await places.districts(hub, canonical)
    return {
        "type": "FeatureCollection",
        "code": canonical,
        "name": name_of(canonical),
        "features": [places.district_feature(row) for row in rows],
    }


@router.get(
    "/shelters/registered",
    summary="A municipality's designated evacuation sites and shelters (GeoJSON)",
)
async def list_sites(
    hub: ServicesDep,
    code: CodeQuery,
    kind: Annotated[Literal["emergency_site", "shelter"] | None, Query()] = None,
) -> dict[str, Any]:
    canonical = places.municipality(code)
    rows = await places.sites(hub, canonical, kind)
    return {
        "type": "FeatureCollection",
        "code": canonical,
        "name": name_of(canonical),
        "features": [places.site_feature(row) for row in rows],
    }
