"""What a receiver organization sees of its own endpoints: settings (secrets masked), health,
and the last deliveries with their state, latency and error.

Read-only, shared by the receiver console (``web/receivers.py``); the changes themselves are
``hub/endpoints.py`` and ``hub/endpoints_ops.py``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from alertcommons.hub.services import Services
from alertcommons.store import alerts as alert_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.schema import alerts, deliveries

RECENT = 20
# A delivery that failed for good, or failed and waits to be tried again.
_FAILING = ("failed", "pending")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def delivery_view(row: Any) -> dict[str, Any]:
    info = (alert_queries.decode_json(row).get("info") or [{}])[0]
    return {
        "id": row.id,
        "alert_id": row.alert_id,
        "identifier": row.identifier,
        "status": row.status,
        "msg_type": row.msg_type,
        "headline": info.get("headline") or info.get("event") or "",
        "state": row.state,
        "attempts": row.attempts,
        "latency_ms": row.latency_ms,
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
        "delivered_at": _iso(row.delivered_at),
        "acknowledged_at": _iso(row.acknowledged_at),
    }


def _with_alert() -> Select[Any]:
    """Deliveries beside what ``delivery_view`` shows of their alert."""
    return select(
        deliveries,
        alerts.c.identifier,
        alerts.c.status,
        alerts.c.msg_type,
        alerts.c.cap_json,
    ).join(alerts, alerts.c.id == deliveries.c.alert_id)


def _recent(connection: Connection, endpoint_id: str, limit: int) -> list[dict[str, Any]]:
    query = (
        _with_alert()
        .where(deliveries.c.endpoint_id == endpoint_id)
        .order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
        .limit(limit)
    )
    return [delivery_view(row) for row in connection.execute(query)]


def consecutive_failures(recent: list[dict[str, Any]]) -> int:
    """Deliveries in a row, newest first, that failed (or failed and wait for a retry) since
    the last one that was made; one still waiting for its first try neither counts nor
    breaks the run."""
    count = 0
    for item in recent:
        if item["state"] in ("delivered", "acknowledged"):
            break
        if item["state"] in _FAILING and item["last_error"]:
            count += 1
    return count


def view(hub: Services, connection: Connection, row: Any, limit: int = RECENT) -> dict[str, Any]:
    channel = hub.dispatcher.channels.get(row.channel)
    config = json.loads(row.config)
    recent = _recent(connection, row.id, limit)
    return {
        "id": row.id,
        "channel": row.channel,
        "label": row.label,
        "settings": channel.public_config(config) if channel else {},
        "has_secret": "secret" in config,
        "filter": json.loads(row.filter),
        "active": bool(row.active),
        "disabled_reason": row.disabled_reason,
        "last_success_at": _iso(row.last_success_at),
        "failing_since": _iso(row.failing_since),
        "last_error": row.last_error,
        "consecutive_failures": consecutive_failures(recent),
        "recent": recent,
    }


def _owned(connection: Connection, organization_id: str, endpoint_id: str) -> Any:
    """The endpoint if it is the organization's; None if it is not there or another's."""
    row = endpoint_queries.get(connection, endpoint_id)
    return row if row is not None and row.organization_id == organization_id else None


async def of_organization(hub: Services, organization_id: str) -> list[dict[str, Any]]:
    def load(connection: Connection) -> list[dict[str, Any]]:
        rows = endpoint_queries.for_organization(connection, organization_id)
        return [view(hub, connection, row, limit=5) for row in rows]

    return await hub.store.read(load)


async def one(hub: Services, organization_id: str, endpoint_id: str) -> dict[str, Any] | None:
    """One endpoint of the organization, or None (not there, or another's)."""

    def load(connection: Connection) -> dict[str, Any] | None:
        row = _owned(connection, organization_id, endpoint_id)
        return None if row is None else view(hub, connection, row)

    return await hub.store.read(load)


async def delivery(
    hub: Services, organization_id: str, endpoint_id: str, delivery_id: str
) -> dict[str, Any] | None:
    """One delivery to one of the organization's endpoints, or None."""

    def load(connection: Connection) -> dict[str, Any] | None:
        if _owned(connection, organization_id, endpoint_id) is None:
            return None
        query = _with_alert().where(
            deliveries.c.id == delivery_id, deliveries.c.endpoint_id == endpoint_id
        )
        found = connection.execute(query).first()
        return None if found is None else delivery_view(found)

    return await hub.store.read(load)
