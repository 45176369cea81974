"""Deliveries: acknowledgements from receivers, and the report an issuer watches.

Shared by the API (``api/deliveries.py``, ``api/alerts.py``, ``api/jp.py``) and the console's
delivery board (``web/console.py``, ``web/admin.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from alertcommons.auth.principal import Principal
from alertcommons.cap import Alert
from alertcommons.cap.model import parse_references
from alertcommons.hub.services import Services
from alertcommons.problems import Forbidden, NotFound, Unprocessable
from alertcommons.store import alerts as alert_queries
from alertcommons.store import audit, orgs
from alertcommons.store import deliveries as delivery_queries
from alertcommons.store.times import alert_time

STATES = ("pending", "delivered", "acknowledged", "failed", "standby", "skipped")


async def acknowledge(hub: Services, caller: Principal, delivery_id: str) -> tuple[str, Any]:
    """Acknowledge one delivery: ``acknowledged``, or ``held`` while its send is in flight;
    answers the outcome and the delivery's row."""
    row = await hub.store.read(lambda c: delivery_queries.get(c, delivery_id))
    # Not even an admin acknowledges for a receiver: a report of who has an alert trusts
    # acknowledgements from the receiving organization alone.
    if row is None or row.organization_id != caller.organization_id:
        raise NotFound(f"no delivery '{delivery_id}' to one of your endpoints")
    now = datetime.now(UTC)

    def ack(connection: Connection) -> tuple[str | None, Any]:
        outcome = delivery_queries.acknowledge(connection, delivery_id, now)
        if outcome is not None:
            audit.append(
                connection,
                actor=caller.actor,
                action="delivery.ack",
                subject=delivery_id,
                detail={"alert_id": row.alert_id, "outcome": outcome},
            )
        return outcome, delivery_queries.get(connection, delivery_id)

    outcome, updated = await hub.store.write(ack)
    if outcome is None:
        state = "pending" if updated.state == "sending" else updated.state
        raise Unprocessable(
            f"delivery {delivery_id} is {state}: only a delivery that was made can be acknowledged"
        )
    return outcome, updated


async def sent_of(hub: Services, alert_id: str) -> str | None:
    """The alert's ``sent`` as written: answers give its times in that offset."""
    row = await hub.store.read(lambda c: alert_queries.get(c, alert_id))
    return row.sent_text if row is not None else None


async def acknowledge_by_cap(hub: Services, caller: Principal, alert: Alert) -> dict[str, Any]:
    """A CAP ``msgType=Ack`` from a receiver acknowledges what it references."""
    if "receiver" not in caller.roles:
        raise Forbidden("only a receiver acknowledges alerts")
    if caller.sender is not None and alert.sender != caller.sender:
        raise Forbidden(f"your organization sends as '{caller.sender}', not '{alert.sender}'")
    if not alert.references:
        raise Unprocessable(
            "an Ack must name the alert(s) it acknowledges", path="alert/references"
        )
    triples = parse_references(alert.references)
    now = datetime.now(UTC)

    def ack(connection: Connection) -> dict[str, list[str]]:
        alert_ids = []
        for triple in triples:
            row = alert_queries.find(connection, triple.sender, triple.identifier)
            if row is not None:
                alert_ids.append(row.id)
        ids = delivery_queries.for_alerts_and_org(connection, alert_ids, caller.organization_id)
        # only this organization's deliveries, and of those only the ones that were made
        outcomes = {d: delivery_queries.acknowledge(connection, d, now) for d in ids}
        done = {
            kind: [d for d, outcome in outcomes.items() if outcome == kind]
            for kind in ("acknowledged", "held")
        }
        if done["acknowledged"] or done["held"]:
            audit.append(
                connection,
                actor=caller.actor,
                action="delivery.ack",
                subject=alert.identifier,
                detail={**done, "via": "CAP Ack"},
            )
        return done

    acknowledged: dict[str, Any] = await hub.store.write(ack)
    if not (acknowledged["acknowledged"] or acknowledged["held"]):
        raise NotFound(
            "none of the referenced alerts was delivered to your endpoints: only deliveries"
            " that were made can be acknowledged"
        )
    # "held": sends still in flight; they count as acknowledged once they succeed
    return acknowledged


async def board(hub: Services, alert_id: str, *, viewer: str, is_admin: bool) -> dict[str, Any]:
    """Who has the alert and who not, as ``viewer`` may see it."""

    def load(connection: Connection) -> dict[str, Any]:
        rows = delivery_queries.report_rows(connection, alert_id)
        alert = alert_queries.get(connection, alert_id)
        return for_viewer(
            report(rows, alert.sent_text if alert is not None else None),
            organization_names(connection),
            viewer=viewer,
            is_admin=is_admin,
        )

    return await hub.store.read(load)


def organization_names(connection: Connection) -> dict[str, str]:
    return {row.id: row.name for row in orgs.list_orgs(connection)}


# What an issuer is told about a delivery that did not go through: its state, never the
# receiver's address, port or the remote error (they map other organizations' networks).
HIDDEN_ERRORS = {
    "pending": "not delivered yet: the receiver has not accepted it; retrying",
    "failed": "could not be delivered to this receiver",
}


def for_viewer(
    summary: dict[str, Any], names: dict[str, str], *, viewer: str, is_admin: bool
) -> dict[str, Any]:
    """Name each receiving organization; hide other organizations' endpoint internals.

    An issuer sees who receives its alert (by organization name) and each delivery's state.
    Endpoint ids, organization ids, labels and raw errors are shown only to admins and to
    the receiving organization itself (an organization that is both issuer and receiver).
    """
    for item in summary["items"]:
        owner = item["organization_id"]
        item["organization"] = names.get(owner)
        if is_admin or owner == viewer:
            continue
        error = item["last_error"]
        item.update(
            endpoint_id=None,
            organization_id=None,
            label=None,
            site=None,
            last_error=HIDDEN_ERRORS.get(item["state"], error) if error else None,
        )
    for site in summary["sites"]:
        owner = site["organization_id"]
        site["organization"] = names.get(owner)
        if not (is_admin or owner == viewer):  # which route reached it is shown, not names
            site.update(name=None, organization_id=None)
    return summary


def report(rows: list[Any], sent_text: str | None = None) -> dict[str, Any]:
    """Counts and items; times in the offset of the alert's ``sent`` (``sent_text``), like
    every other time of an alert the API gives (store/times.py)."""
    counts = dict.fromkeys(STATES, 0)
    items = []
    for row in rows:
        state = "pending" if row.state == "sending" else row.state
        counts[state] += 1
        items.append(
            {
                "id": row.id,
                "endpoint_id": row.endpoint_id,
                "organization_id": row.organization_id,
                "channel": row.channel,
                "label": row.label,
                "state": state,
                "attempts": row.attempts,
                "latency_ms": round(row.latency_ms, 1) if row.latency_ms is not None else None,
                "delivered_at": alert_time(row.delivered_at, sent_text),
                # an acknowledgement held for a send in flight is not one yet
                "acknowledged_at": alert_time(row.acknowledged_at, sent_text)
                if state == "acknowledged"
                else None,
                "last_error": row.last_error,
                "site_id": row.site_id,
                "site": row.site,
                "route": row.route,
            }
        )
    # acknowledged deliveries were delivered too
    return {"total": len(rows), **counts, "items": items, "sites": sites_of(items)}


def site_state(states: list[str]) -> str:
    """A site is ``reached`` once any route is acknowledged; ``delivered`` when a route was
    delivered and none acknowledged yet; ``failed`` when no route is left to try."""
    if "acknowledged" in states:
        return "reached"
    if "delivered" in states:
        return "delivered"
    if all(state in ("failed", "skipped") for state in states):
        return "failed"
    return "pending"


def sites_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deliveries that are routes to a site, grouped by site, in the order tried."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item["site_id"] is not None:
            grouped.setdefault(item["site_id"], []).append(item)
    sites = []
    for site_id, routes in grouped.items():
        routes.sort(key=lambda item: item["route"] or 0)
        acknowledged = [r for r in routes if r["state"] == "acknowledged"]
        sites.append(
            {
                "site_id": site_id,
                "name": routes[0]["site"],
                "organization_id": routes[0]["organization_id"],
                "state": site_state([r["state"] for r in routes]),
                "reached_by": acknowledged[0]["id"] if acknowledged else None,
                "routes": [
                    {
                        "delivery_id": r["id"],
                        "route": r["route"],
                        "channel": r["channel"],
                        "state": r["state"],
                        "attempts": r["attempts"],
                    }
                    for r in routes
                ],
            }
        )
    return sites
