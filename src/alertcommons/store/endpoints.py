"""Queries for receivers' endpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from alertcommons.store.ids import new_id
from alertcommons.store.schema import endpoints, organizations


def create(
    connection: Connection,
    *,
    organization_id: str,
    channel: str,
    config: dict[str, Any],
    filter_document: dict[str, Any],
    label: str | None,
) -> str:
    now = datetime.now(UTC)
    endpoint_id = new_id()
    connection.execute(
        insert(endpoints).values(
            id=endpoint_id,
            organization_id=organization_id,
            channel=channel,
            config=json.dumps(config, ensure_ascii=False),
            filter=json.dumps(filter_document, ensure_ascii=False),
            label=label,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )
    return endpoint_id


def get(connection: Connection, endpoint_id: str) -> Any:
    return connection.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).first()


def for_organization(connection: Connection, organization_id: str) -> list[Any]:
    query = (
        select(endpoints)
        .where(endpoints.c.organization_id == organization_id)
        .order_by(endpoints.c.id)
    )
    return list(connection.execute(query))


def all_endpoints(connection: Connection) -> list[Any]:
    return list(connection.execute(select(endpoints).order_by(endpoints.c.id)))


def version(connection: Connection) -> tuple[Any, ...]:
    """Changes whenever any endpoint is added, changed, disabled or removed."""
    from sqlalchemy import func

    row = connection.execute(select(func.count(), func.max(endpoints.c.updated_at))).one()
    return tuple(row)


def active_filters(connection: Connection) -> list[tuple[str, str]]:
    query = select(endpoints.c.id, endpoints.c.filter).where(endpoints.c.active.is_(True))
    return [(row.id, row.filter) for row in connection.execute(query)]


def active_owners(connection: Connection) -> dict[str, tuple[str, str | None]]:
    """Each active endpoint's organization id and that organization's CAP sender: the names a
    Restricted or Private alert's ``addresses`` can give it by."""
    query = (
        select(endpoints.c.id, endpoints.c.organization_id, organizations.c.sender)
        .join(organizations, organizations.c.id == endpoints.c.organization_id)
        .where(endpoints.c.active.is_(True))
    )
    return {row.id: (row.organization_id, row.sender) for row in connection.execute(query)}


def change(connection: Connection, endpoint_id: str, values: dict[str, Any]) -> None:
    values = dict(values)
    for key in ("config", "filter"):
        if key in values:
            values[key] = json.dumps(values[key], ensure_ascii=False)
    values["updated_at"] = datetime.now(UTC)
    connection.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))


def by_ids(connection: Connection, ids: list[str]) -> dict[str, Any]:
    query = select(endpoints).where(endpoints.c.id.in_(ids))
    return {row.id: row for row in connection.execute(query)}


def unacknowledged_tests(connection: Connection, older_than: datetime) -> dict[str, int]:
    """Endpoints with test messages delivered or due before ``older_than`` and never
    acknowledged: equipment that may not be listening."""
    from sqlalchemy import func

    from alertcommons.store.schema import alerts, deliveries

    query = (
        select(deliveries.c.endpoint_id, func.count())
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(
            alerts.c.status == "Test",
            deliveries.c.state != "acknowledged",
            deliveries.c.created_at <= older_than,
        )
        .group_by(deliveries.c.endpoint_id)
    )
    return {endpoint_id: int(count) for endpoint_id, count in connection.execute(query)}
