"""Deliveries: acknowledgements from receivers, and the report an issuer watches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from alertcommons.hub import deliveries
from alertcommons.problems import NotFound
from alertcommons.store import alerts as alert_queries
from alertcommons.store.times import alert_time

from .deps import PrincipalDep, ServicesDep

router = APIRouter(tags=["deliveries"])


@router.post("/api/v1/deliveries/{delivery_id}/ack", summary="Acknowledge a delivery")
async def acknowledge(
    delivery_id: str, hub: ServicesDep, caller: PrincipalDep, response: Response
) -> dict[str, Any]:
    """Only the organization the delivery went to acknowledges it, and only once it was made.

    An acknowledgement sent while the hub still waits for the receiver's answer is held
    (``202``, state ``pending``) and counts when that send succeeds.
    """
    outcome, updated = await deliveries.acknowledge(hub, caller, delivery_id)
    # In the offset of the alert's sent (+09:00 for a Japanese issuer), as every alert time.
    when = alert_time(updated.acknowledged_at, await deliveries.sent_of(hub, updated.alert_id))
    if outcome == "held":
        response.status_code = 202
        return {
            "id": delivery_id,
            "alert_id": updated.alert_id,
            "state": "pending",
            "acknowledged_at": when,
        }
    return {
        "id": delivery_id,
        "alert_id": updated.alert_id,
        "state": updated.state,
        "acknowledged_at": when,
    }


@router.get("/api/v1/alerts/{alert_id}/deliveries", summary="Who has the alert, and who not")
async def delivery_report(alert_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    alert = await hub.store.read(lambda c: alert_queries.get(c, alert_id))
    if alert is None or (not caller.is_admin and alert.organization_id != caller.organization_id):
        raise NotFound(f"no alert '{alert_id}' of yours")
    return await deliveries.board(
        hub, alert_id, viewer=caller.organization_id, is_admin=caller.is_admin
    )
