"""Receiving sites: one place (a newsroom, a city hall) reached by several routes.

A site is made when an endpoint first names it (``"site"`` on the endpoint) and holds one
setting, ``ack_timeout_s``: how long a route is given, from its first attempt, to be
delivered and acknowledged before the site's next route is tried.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from alertcommons.auth.principal import Principal
from alertcommons.hub.endpoints import site_name
from alertcommons.hub.services import Services
from alertcommons.problems import Unprocessable
from alertcommons.store import audit, sites

ACK_TIMEOUT_MIN_S = 1.0
ACK_TIMEOUT_MAX_S = 3600.0


def view(row: Any, routes: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "name": row.name,
        "ack_timeout_s": row.ack_timeout_s,
        "routes": [
            {
                "endpoint_id": route.id,
                "channel": route.channel,
                "label": route.label,
                "route_order": route.route_order or 0,
                "active": bool(route.active),
            }
            for route in routes
        ],
    }


async def listing(hub: Services, caller: Principal) -> list[dict[str, Any]]:
    """The caller's sites (an admin's: all), each with its routes in the order tried."""
    owner = None if caller.is_admin else caller.organization_id

    def load(connection: Connection) -> list[dict[str, Any]]:
        rows = sites.for_organization(connection, owner)
        routes = sites.routes_of(connection, [row.id for row in rows])
        return [view(row, routes[row.id]) for row in rows]

    return await hub.store.read(load)


async def configure(
    hub: Services, caller: Principal, name: Any, body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Set a site's ``ack_timeout_s``, making the site if the caller has none of that name;
    the site, and whether it was made."""
    checked_name = site_name(name)
    assert checked_name is not None
    unknown = sorted(set(body) - {"ack_timeout_s"})
    if unknown:
        raise Unprocessable(f"unknown member '{unknown[0]}': a site has 'ack_timeout_s'")
    timeout = body.get("ack_timeout_s")
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not ACK_TIMEOUT_MIN_S <= timeout <= ACK_TIMEOUT_MAX_S
    ):
        raise Unprocessable(
            f"'ack_timeout_s' is a number of seconds from {ACK_TIMEOUT_MIN_S:g}"
            f" to {ACK_TIMEOUT_MAX_S:g}",
            path="ack_timeout_s",
        )

    def apply(connection: Connection) -> tuple[dict[str, Any], bool]:
        site_id, made = sites.ensure(connection, caller.organization_id, checked_name)
        sites.set_timeout(connection, site_id, float(timeout))
        audit.append(
            connection,
            actor=caller.actor,
            action="site.create" if made else "site.update",
            subject=site_id,
            detail={"name": checked_name, "ack_timeout_s": float(timeout)},
        )
        row = sites.find(connection, caller.organization_id, checked_name)
        return view(row, sites.routes_of(connection, [site_id])[site_id]), made

    return await hub.store.write(apply)
