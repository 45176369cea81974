"""A site's routes, one after another: the decisions are rows, not timers.

An alert for a site with several routes is queued as one delivery per route: the first
``pending``, the others ``standby`` with a due time (``delivery/sites.py``). The dispatcher
claims a standby row like any other when its due time comes, so a failover survives a crash:
whichever node claims next finds the same rows. Three things move the due times, each in the
transaction that records what happened:

* a route's **first attempt** is claimed: the next route is due ``ack_timeout_s`` later
  (``arm``) — the time that route is given to be delivered and acknowledged;
* an attempt **fails** (retry later, or for good): the next route is due at once
  (``fail_over``); the failed route keeps retrying, since it may be the one that recovers;
* a route is **acknowledged**: every other route of the site still standby or pending
  (retrying) is ``skipped`` (``reached``) — never sent, or no more retries. A route already
  in flight then finishes its send (if that attempt fails, it is skipped then, not retried),
  and one already delivered stays delivered: the receiver may hold the alert twice and drops
  the repeat by its id, as for any at-least-once delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from alertcommons.store.schema import deliveries, delivery_sites
from alertcommons.store.sites import DEFAULT_ACK_TIMEOUT_S

SKIPPED_REASON = "the site was reached by another route"
# A standby route's due time until the route before it is attempted or fails.
NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)


def _next_route(connection: Connection, alert_id: str, site_id: str, route: int) -> Any:
    """The site's route after ``route`` for this alert (whatever its state), or None."""
    query = (
        select(deliveries.c.id, deliveries.c.state)
        .where(
            deliveries.c.alert_id == alert_id,
            deliveries.c.site_id == site_id,
            deliveries.c.route > route,
        )
        .order_by(deliveries.c.route)
        .limit(1)
    )
    return connection.execute(query).first()


def _make_due(connection: Connection, delivery_id: str, at: datetime) -> bool:
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.state == "standby")
        .values(due_at=at)
    )
    return bool(result.rowcount)


def arm(connection: Connection, first_attempts: Iterable[Any], moment: datetime) -> None:
    """Routes whose first attempt was just claimed (rows with ``alert_id``, ``site_id``,
    ``route``): their next route is due ``ack_timeout_s`` from now, unless it is already."""
    timeouts: dict[str, float] = {}
    for row in first_attempts:
        if row.site_id is None or row.route is None:
            continue
        following = _next_route(connection, row.alert_id, row.site_id, row.route)
        if following is None or following.state != "standby":
            continue
        if row.site_id not in timeouts:
            found = connection.execute(
                select(delivery_sites.c.ack_timeout_s).where(delivery_sites.c.id == row.site_id)
            ).scalar()
            timeouts[row.site_id] = float(found) if found is not None else DEFAULT_ACK_TIMEOUT_S
        _make_due(connection, following.id, moment + timedelta(seconds=timeouts[row.site_id]))


def _site_rows(connection: Connection, delivery_ids: list[str]) -> list[Any]:
    if not delivery_ids:
        return []
    query = select(
        deliveries.c.id,
        deliveries.c.alert_id,
        deliveries.c.site_id,
        deliveries.c.route,
        deliveries.c.state,
    ).where(deliveries.c.id.in_(delivery_ids), deliveries.c.site_id.is_not(None))
    return list(connection.execute(query))


def fail_over(connection: Connection, delivery_ids: list[str], now: datetime) -> list[str]:
    """Attempts of these deliveries failed: the next route of each one's site is due now
    (when it is still standby). Answers the deliveries made due."""
    due = []
    for row in _site_rows(connection, delivery_ids):
        if row.state == "pending" and is_reached(connection, row.alert_id, row.site_id):
            # a retry that was in flight when another route was acknowledged: no more
            _skip(connection, [row.id])
            continue
        following = _next_route(connection, row.alert_id, row.site_id, row.route)
        if (
            following is not None
            and following.state == "standby"
            and _make_due(connection, following.id, now)
        ):
            due.append(following.id)
    return due


def reached(connection: Connection, delivery_ids: list[str]) -> int:
    """Of these deliveries, the acknowledged ones reached their site: its other routes that
    are standby or pending are skipped. Answers how many were."""
    skipped = 0
    for row in _site_rows(connection, delivery_ids):
        if row.state != "acknowledged":
            continue
        result = connection.execute(
            update(deliveries)
            .where(
                deliveries.c.alert_id == row.alert_id,
                deliveries.c.site_id == row.site_id,
                deliveries.c.id != row.id,
                deliveries.c.state.in_(("standby", "pending")),
            )
            .values(state="skipped", last_error=SKIPPED_REASON, claimed_until=None)
        )
        skipped += int(result.rowcount or 0)
    return skipped


def _skip(connection: Connection, delivery_ids: list[str]) -> None:
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(delivery_ids), deliveries.c.state.in_(("standby", "pending")))
        .values(state="skipped", last_error=SKIPPED_REASON, claimed_until=None)
    )


def drop_reached(connection: Connection, due: list[Any]) -> list[Any]:
    """Of rows about to be claimed (``id``, ``alert_id``, ``site_id``, ``state``), those whose
    site another route has reached are skipped instead, and left out. An attempt that failed
    while its site was being acknowledged on another connection could not see that
    acknowledgement, and queued a retry (or made the next route due): it stops here."""
    waiting = [r for r in due if r.site_id is not None and r.state in ("standby", "pending")]
    reached_sites = {
        (r.alert_id, r.site_id) for r in waiting if is_reached(connection, r.alert_id, r.site_id)
    }
    if not reached_sites:
        return due
    skipped = [r.id for r in waiting if (r.alert_id, r.site_id) in reached_sites]
    _skip(connection, skipped)
    return [r for r in due if r.id not in set(skipped)]


def is_reached(connection: Connection, alert_id: str, site_id: str) -> bool:
    query = select(deliveries.c.id).where(
        deliveries.c.alert_id == alert_id,
        deliveries.c.site_id == site_id,
        deliveries.c.state == "acknowledged",
    )
    return connection.execute(query.limit(1)).first() is not None


def last_route(connection: Connection, alert_id: str, site_id: str) -> int | None:
    from sqlalchemy import func

    query = select(func.max(deliveries.c.route)).where(
        deliveries.c.alert_id == alert_id, deliveries.c.site_id == site_id
    )
    found = connection.execute(query).scalar()
    return None if found is None else int(found)
