"""/api/v1/endpoints: a receiver's channels and filters; their health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import Connection

from alertcommons.auth.principal import Principal
from alertcommons.delivery.filters import FilterError
from alertcommons.hub import endpoints, endpoints_ops
from alertcommons.hub.services import Services
from alertcommons.problems import Forbidden, Unprocessable
from alertcommons.store import endpoints as endpoint_queries

from .deps import NO_STORE, PrincipalDep, ServicesDep

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"])

_EXAMPLE = {
    "channel": "webhook",
    "url": "https://receiver.example/alerts",
    "format": "cap",
    "filter": {"areas": ["13", "271004"], "min_severity": "Severe"},
    "label": "newsroom",
}


def require_receiver(caller: Principal) -> None:
    if "receiver" not in caller.roles and not caller.is_admin:
        raise Forbidden("this needs a receiver token")


def _view(hub: Services, row: Any, *, reveal: dict[str, Any] | None = None) -> dict[str, Any]:
    config = json.loads(row.config)
    channel = hub.dispatcher.channels.get(row.channel)
    shown = channel.public_config(config) if channel else {}
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "channel": row.channel,
        "label": row.label,
        "site": row.site,  # the receiving site it is one route to, or null
        "route_order": row.route_order or 0,
        **shown,
        **(reveal or {}),
        "filter": json.loads(row.filter),
        "active": bool(row.active),
        "disabled_reason": row.disabled_reason,
        "last_success_at": row.last_success_at.isoformat() if row.last_success_at else None,
        "failing_since": row.failing_since.isoformat() if row.failing_since else None,
        "last_error": row.last_error,
    }


@router.post("", status_code=201, summary="Register an endpoint (its secret is shown once)")
async def create_endpoint(
    hub: ServicesDep,
    caller: PrincipalDep,
    response: Response,
    body: Annotated[dict[str, Any], Body(examples=[_EXAMPLE])],
) -> dict[str, Any]:
    require_receiver(caller)
    row, config, queued = await endpoints.create(hub, caller, body)
    response.headers["Location"] = f"/api/v1/endpoints/{row.id}"
    response.headers["Cache-Control"] = NO_STORE  # the secret, shown this once
    secret = {"secret": config["secret"]} if "secret" in config else None
    return {**_view(hub, row, reveal=secret), "backfilled": queued}


@router.get("", summary="Your endpoints (an admin sees all)")
async def list_endpoints(hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    if caller.is_admin:
        rows = await hub.store.read(endpoint_queries.all_endpoints)
    else:
        rows = await hub.store.read(
            lambda c: endpoint_queries.for_organization(c, caller.organization_id)
        )
    return {"items": [_view(hub, row) for row in rows]}


@router.get("/health", summary="Endpoints that keep failing, or leave tests unacknowledged")
async def endpoint_health(
    hub: ServicesDep,
    caller: PrincipalDep,
    failing_for: Annotated[int, Query(ge=0, le=86400 * 30, description="seconds")] = 300,
    unacknowledged_for: Annotated[int, Query(ge=0, le=86400 * 30, description="seconds")] = 600,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    failing_cutoff = now - timedelta(seconds=failing_for)
    test_cutoff = now - timedelta(seconds=unacknowledged_for)

    def load(connection: Connection) -> dict[str, Any]:
        rows = (
            endpoint_queries.all_endpoints(connection)
            if caller.is_admin
            else endpoint_queries.for_organization(connection, caller.organization_id)
        )
        silent = endpoint_queries.unacknowledged_tests(connection, test_cutoff)
        items = []
        for row in rows:
            reasons = []
            if row.failing_since is not None and row.failing_since <= failing_cutoff:
                reasons.append(f"failing since {row.failing_since.isoformat()}: {row.last_error}")
            if not row.active and row.disabled_reason:
                reasons.append(f"disabled: {row.disabled_reason}")
            if row.id in silent:
                reasons.append(f"{silent[row.id]} test message(s) not acknowledged")
            if reasons:
                items.append({**_view(hub, row), "problems": reasons})
        return {"items": items, "checked": len(rows)}

    return await hub.store.read(load)


@router.get("/{endpoint_id}", summary="One endpoint")
async def get_endpoint(endpoint_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    return _view(hub, await endpoints.own(hub, caller, endpoint_id))


@router.post(
    "/preview",
    summary="Which alerts in force, and of the last 7 days, a filter would match",
)
async def preview_filter(
    hub: ServicesDep,
    caller: PrincipalDep,
    body: Annotated[
        dict[str, Any],
        Body(examples=[{"filter": {"areas": ["13"], "min_severity": "Severe"}}]),
    ],
) -> dict[str, Any]:
    require_receiver(caller)
    viewer = None if caller.is_admin else caller.organization_id
    try:
        return await hub.store.read(
            lambda c: endpoints_ops.preview(c, body.get("filter"), organization_id=viewer)
        )
    except FilterError as exc:
        raise Unprocessable(str(exc), path=f"filter/{exc.key}") from None


@router.post(
    "/{endpoint_id}/test",
    status_code=202,
    summary="Send the endpoint a test delivery (a signed status=Test message, to it alone)",
)
async def test_endpoint(endpoint_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    await endpoints.own(hub, caller, endpoint_id)
    return await endpoints_ops.send_test(hub, caller.actor, endpoint_id)


@router.post(
    "/{endpoint_id}/secret",
    summary="Give the endpoint a new signing secret (shown once; the old one stops at once)",
)
async def rotate_endpoint_secret(
    endpoint_id: str, hub: ServicesDep, caller: PrincipalDep, response: Response
) -> dict[str, Any]:
    updated, secret = await endpoints.rotate_secret(hub, caller, endpoint_id)
    response.headers["Cache-Control"] = NO_STORE
    return _view(hub, updated, reveal={"secret": secret})


@router.patch("/{endpoint_id}", summary="Change an endpoint's settings, filter, label or active")
async def update_endpoint(
    endpoint_id: str,
    hub: ServicesDep,
    caller: PrincipalDep,
    body: Annotated[dict[str, Any], Body(examples=[{"filter": {"areas": ["13"]}}])],
) -> dict[str, Any]:
    updated, queued = await endpoints.update(hub, caller, endpoint_id, body)
    view = _view(hub, updated)
    return view if queued is None else {**view, "backfilled": queued}


@router.delete("/{endpoint_id}", status_code=204, summary="Stop delivering to an endpoint")
async def delete_endpoint(endpoint_id: str, hub: ServicesDep, caller: PrincipalDep) -> Response:
    await endpoints.remove(hub, caller, endpoint_id)
    return Response(status_code=204)
