"""``/api/v1/feeds/sources``: every source the hub reads, with its health, and the CAP
sources an admin adds, changes, pauses and removes at run time (admin only; each change is
one audited operation in ``hub/sources.py``).

The CAP sources (``hub/cap_ingest.py``) and the JMA feeds report in one list, in one shape:
last fetch, its duration and result, the last error, warnings, and what became of the alerts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from alertcommons.hub import sources

from .deps import AdminDep, ServicesDep

router = APIRouter(tags=["feeds"])
PATH = "/api/v1/feeds/sources"


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    url: str | None = Field(default=None, max_length=2000, description="Atom or RSS feed of CAP")
    directory: str | None = Field(
        default=None, max_length=1000, description="a folder of CAP files, where allowed"
    )
    organization: str = Field(
        min_length=1, max_length=128, description="id (or sender) of the issuer"
    )
    certificates: str | None = Field(
        default=None,
        max_length=64 * 1024,
        description="PEM: what alerts must verify against",
    )
    allow_unsigned: bool = False
    allowed_hosts: list[str] = Field(default_factory=list, max_length=20)
    poll_seconds: float | None = Field(default=None, description="default: the hub's setting")
    active: bool = True


class SourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128)
    url: str | None = Field(default=None, max_length=2000)
    directory: str | None = Field(default=None, max_length=1000)
    organization: str | None = Field(default=None, min_length=1, max_length=128)
    certificates: str | None = Field(default=None, max_length=64 * 1024)
    allow_unsigned: bool | None = None
    allowed_hosts: list[str] | None = Field(default=None, max_length=20)
    poll_seconds: float | None = None
    active: bool | None = None


@router.get(PATH, summary="Every source read in (CAP feeds, folders, JMA feeds) and its health")
async def feed_sources(hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    return await sources.listing(hub)


@router.post(PATH, status_code=201, summary="Add a CAP source; it starts on every node")
async def add_source(body: SourceIn, hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    created = await sources.create(hub, caller.actor, body.model_dump())
    return await sources.get(hub, created["id"])


@router.get(PATH + "/{source_id}", summary="One source and its health")
async def one_source(source_id: str, hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    return await sources.get(hub, source_id)


@router.patch(PATH + "/{source_id}", summary="Change, pause (active: false) or resume a source")
async def change_source(
    source_id: str, body: SourcePatch, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    await sources.update(hub, caller.actor, source_id, changes)
    return await sources.get(hub, source_id)


@router.delete(PATH + "/{source_id}", status_code=204, summary="Remove a CAP source")
async def remove_source(source_id: str, hub: ServicesDep, caller: AdminDep) -> Response:
    await sources.delete(hub, caller.actor, source_id)
    return Response(status_code=204)
