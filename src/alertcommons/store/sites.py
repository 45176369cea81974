"""Queries for receiving sites: a name within an organization, and how long each route is
given to be acknowledged before the next is tried (see ``store/failover.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from alertcommons.store.ids import new_id
from alertcommons.store.schema import delivery_sites, endpoints

DEFAULT_ACK_TIMEOUT_S = 30.0
_SITE_LOCK = 0x4A50_0003  # with a hash of the organization and name (see ensure)


def find(connection: Connection, organization_id: str, name: str) -> Any:
    query = select(delivery_sites).where(
        delivery_sites.c.organization_id == organization_id, delivery_sites.c.name == name
    )
    return connection.execute(query).first()


def ensure(connection: Connection, organization_id: str, name: str) -> tuple[str, bool]:
    """The site's id, made with the default timeout when the organization has none of that
    name; and whether it was made."""
    row = find(connection, organization_id, name)
    if row is None and connection.dialect.name == "postgresql":
        # Two routes naming a new site at once (PostgreSQL writes on several connections):
        # the second waits for the first to commit and joins its site, instead of breaking
        # the unique name. SQLite has one writer.
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:kind, hashtext(:key))"),
            {"kind": _SITE_LOCK, "key": f"{organization_id}\n{name}"},
        )
        row = find(connection, organization_id, name)
    if row is not None:
        return str(row.id), False
    now = datetime.now(UTC)
    site_id = new_id()
    connection.execute(
        insert(delivery_sites).values(
            id=site_id,
            organization_id=organization_id,
            name=name,
            ack_timeout_s=DEFAULT_ACK_TIMEOUT_S,
            created_at=now,
            updated_at=now,
        )
    )
    return site_id, True


def set_timeout(connection: Connection, site_id: str, ack_timeout_s: float) -> None:
    connection.execute(
        update(delivery_sites)
        .where(delivery_sites.c.id == site_id)
        .values(ack_timeout_s=ack_timeout_s, updated_at=datetime.now(UTC))
    )


def for_organization(connection: Connection, organization_id: str | None) -> list[Any]:
    """Sites (of one organization, or all for None), by name."""
    query = select(delivery_sites).order_by(delivery_sites.c.name, delivery_sites.c.id)
    if organization_id is not None:
        query = query.where(delivery_sites.c.organization_id == organization_id)
    return list(connection.execute(query))


def routes_of(connection: Connection, site_ids: list[str]) -> dict[str, list[Any]]:
    """Each site's endpoints (active or not), in the order they are tried."""
    if not site_ids:
        return {}
    query = (
        select(
            endpoints.c.id,
            endpoints.c.site_id,
            endpoints.c.channel,
            endpoints.c.label,
            endpoints.c.active,
            endpoints.c.route_order,
        )
        .where(endpoints.c.site_id.in_(site_ids))
        .order_by(endpoints.c.route_order, endpoints.c.id)
    )
    found: dict[str, list[Any]] = {site_id: [] for site_id in site_ids}
    for row in connection.execute(query):
        found[row.site_id].append(row)
    for routes in found.values():
        routes.sort(key=lambda r: (r.route_order or 0, r.id))
    return found


def active_routes(connection: Connection) -> dict[str, tuple[str, int]]:
    """Every active endpoint that is a site's route: its site and order — what the outbox
    needs to queue an alert site by site (the timeout is read when a route is claimed)."""
    query = select(endpoints.c.id, endpoints.c.site_id, endpoints.c.route_order).where(
        endpoints.c.active.is_(True), endpoints.c.site_id.is_not(None)
    )
    return {row.id: (row.site_id, row.route_order or 0) for row in connection.execute(query)}
