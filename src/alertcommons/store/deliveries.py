"""Queries for the outbox: writing deliveries, claiming due ones, recording outcomes."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update

from alertcommons.store import bulk, failover
from alertcommons.store.schema import alerts, deliveries, delivery_sites, endpoints

OPEN_STATES = ("pending", "sending")


_INSERT_KEYS = (
    "id",
    "alert_id",
    "endpoint_id",
    "priority",
    "state",
    "due_at",
    "attempts",
    "created_at",
    "expires_at",
    "site_id",
    "route",
    "claimed_until",  # set on rows handed to this node's dispatcher at publish
)
_INSERT = insert(deliveries)


def insert_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """One statement for all of a publish's deliveries, in the publish's transaction: the
    201 still comes after they are committed. A column a row leaves out is NULL."""
    if not rows:
        return
    allowed = set(_INSERT_KEYS)
    if all(row.keys() <= allowed for row in rows):
        # the fast path binds every column it names: a row that leaves one out (a test
        # delivery has no site) gives it as NULL, not as SQLAlchemy's "required" marker
        complete = [
            row if len(row) == len(_INSERT_KEYS) else dict.fromkeys(_INSERT_KEYS) | row
            for row in rows
        ]
        bulk.execute_many(connection, _INSERT, complete, keys=_INSERT_KEYS)
    else:  # a column the fast path does not know: the general way
        connection.execute(_INSERT, rows)


def recipients_of(connection: Connection, alert_ids: list[str]) -> set[str]:
    """Endpoints that were sent any of these alerts: an update or cancel must reach them."""
    if not alert_ids:
        return set()
    query = select(deliveries.c.endpoint_id).where(deliveries.c.alert_id.in_(alert_ids))
    return set(connection.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    alert_id: str
    endpoint_id: str
    attempts: int
    expires_at: datetime | None
    priority: int = 0
    site_id: str | None = None  # a route to this site (store/failover.py)


class _Due(NamedTuple):
    """A due row as the claim reads it: plain tuple access, not a Row's per-name lookup."""

    id: str
    alert_id: str
    endpoint_id: str
    attempts: int
    expires_at: datetime | None
    priority: int
    site_id: str | None
    route: int | None
    state: str


@dataclass(frozen=True, slots=True)
class ClaimRound:
    claimed: list[Claimed]
    exhausted: bool  # fewer rows were due than asked for: nothing more to take now


def claim_due(
    connection: Connection,
    *,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
    room: Callable[[str], int] | None = None,
    skip_endpoints: Collection[str] = (),
    max_priority: int | None = None,
) -> ClaimRound:
    """Take up to ``limit`` due deliveries, most urgent first, for ``lease``.

    ``room(endpoint_id)`` says how many more sends an endpoint may have in flight; rows beyond
    that stay pending, unleased, so a delivery never holds a lease while it waits for its
    endpoint's turn. ``skip_endpoints`` (endpoints with no room at all) are left out of the
    query, so a backlog behind stuck endpoints cannot fill every round.
    ``max_priority`` restricts the round to the most urgent deliveries.

    A claim whose lease ran out (its node died mid-send) is due again. On PostgreSQL rows
    another node is claiming are skipped, not waited for. A site's standby route is due like
    a pending delivery; claiming a route's first attempt sets when the next route is due
    (``store/failover.py``), in the same transaction.
    """
    moment = now or datetime.now(UTC)
    due = or_(
        and_(deliveries.c.state.in_(("pending", "standby")), deliveries.c.due_at <= moment),
        and_(deliveries.c.state == "sending", deliveries.c.claimed_until < moment),
    )
    query = select(
        deliveries.c.id,
        deliveries.c.alert_id,
        deliveries.c.endpoint_id,
        deliveries.c.attempts,
        deliveries.c.expires_at,
        deliveries.c.priority,
        deliveries.c.site_id,
        deliveries.c.route,
        deliveries.c.state,
    ).where(due)
    if skip_endpoints:
        query = query.where(deliveries.c.endpoint_id.not_in(sorted(skip_endpoints)))
    if max_priority is not None:
        query = query.where(deliveries.c.priority <= max_priority)
    query = (
        query.order_by(deliveries.c.priority, deliveries.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    found = [_Due._make(row) for row in connection.execute(query)]
    # a reached site's other routes are skipped first, expired or not: skipped is what they are
    rows = _drop_expired(connection, failover.drop_reached(connection, found), moment)
    taken: list[_Due] = []
    granted: dict[str, int] = {}
    for row in rows:
        endpoint_id = row.endpoint_id
        allowed = room(endpoint_id) if room is not None else limit
        sofar = granted.get(endpoint_id, 0)
        if sofar < allowed:
            granted[endpoint_id] = sofar + 1
            taken.append(row)
    if taken:
        # one statement: the ids go to the driver as parameters of an expanding IN
        connection.execute(
            _CLAIM,
            {"ids": [row.id for row in taken], "until": moment + lease},
        )
        failover.arm(
            connection, [r for r in taken if r.site_id is not None and r.attempts == 0], moment
        )
    claimed = [
        Claimed(
            r.id, r.alert_id, r.endpoint_id, r.attempts + 1, r.expires_at, r.priority, r.site_id
        )
        for r in taken
    ]
    return ClaimRound(claimed, exhausted=len(found) < limit)


EXPIRED = "the alert expired before it could be delivered"


def _drop_expired(connection: Connection, found: list[_Due], moment: datetime) -> list[_Due]:
    """``found`` less the rows whose alert has expired, which fail here and are never sent: a
    site's standby route falling due, or a retry or a lapsed lease coming back, after the
    alert stopped being in effect (a receiver would show an order already over)."""
    expired = [r.id for r in found if r.expires_at is not None and r.expires_at <= moment]
    if not expired:
        return found
    connection.execute(_EXPIRE, {"ids": expired})
    gone = set(expired)
    return [r for r in found if r.id not in gone]


_EXPIRE = (
    update(deliveries)
    .where(deliveries.c.id.in_(bindparam("ids", expanding=True)))
    .values(state="failed", last_error=EXPIRED, claimed_until=None)
)

_CLAIM = (
    update(deliveries)
    .where(deliveries.c.id.in_(bindparam("ids", expanding=True)))
    .values(state="sending", claimed_until=bindparam("until"), attempts=deliveries.c.attempts + 1)
)


def renew_leases(
    connection: Connection, delivery_ids: list[str], lease: timedelta, now: datetime | None = None
) -> None:
    """Keep the leases of sends still in progress: a slow receiver is not a dead node."""
    until = (now or datetime.now(UTC)) + lease
    for start in range(0, len(delivery_ids), 500):
        chunk = delivery_ids[start : start + 500]
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(chunk), deliveries.c.state == "sending")
            .values(claimed_until=until)
        )


def release_claims(connection: Connection) -> int:
    """At the start of a single-node hub: whatever it was sending when it stopped is due."""
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.state == "sending")
        .values(state="pending", claimed_until=None)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    endpoint_id: str
    state: str  # delivered | pending (retry) | failed
    due_at: datetime | None = None
    error: str | None = None
    latency_ms: float | None = None
    at: datetime | None = None
    site: bool = False  # a route to a site: its outcome may move the site's other routes


def record(connection: Connection, outcomes: list[Outcome]) -> None:
    now = datetime.now(UTC)
    delivered = [o for o in outcomes if o.state == "delivered"]
    retry = [o for o in outcomes if o.state == "pending"]
    failed = [o for o in outcomes if o.state == "failed"]
    # One executemany per kind of outcome, in the one transaction of this round's outcomes.
    bulk.execute_many(
        connection,
        _DELIVERED,
        [{"d_id": o.id, "d_at": o.at or now, "d_latency": o.latency_ms} for o in delivered],
    )
    bulk.execute_many(
        connection, _RETRY, [{"d_id": o.id, "d_due": o.due_at, "d_error": o.error} for o in retry]
    )
    bulk.execute_many(connection, _FAILED, [{"d_id": o.id, "d_error": o.error} for o in failed])
    # a held acknowledgement now counts: the site is reached; a failure tries the next route
    failover.reached(connection, [o.id for o in delivered if o.site])
    failover.fail_over(connection, [o.id for o in retry + failed if o.site], now)
    _endpoint_health(connection, delivered, retry + failed, now)


_DELIVERED = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("d_id"), deliveries.c.state == "sending")
    .values(
        # an acknowledgement that arrived while this send was in flight now counts
        state=case(
            (deliveries.c.acknowledged_at.is_not(None), "acknowledged"),
            else_="delivered",
        ),
        delivered_at=bindparam("d_at"),
        latency_ms=bindparam("d_latency"),
        claimed_until=None,
        last_error=None,
    )
)
_RETRY = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("d_id"), deliveries.c.state == "sending")
    .values(
        state="pending",
        due_at=bindparam("d_due"),
        last_error=bindparam("d_error"),
        claimed_until=None,
        acknowledged_at=None,  # an ack held for a send that failed was not earned
    )
)
_FAILED = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("d_id"), deliveries.c.state == "sending")
    .values(
        state="failed", last_error=bindparam("d_error"), claimed_until=None, acknowledged_at=None
    )
)


_HEALTH_RESOLUTION = timedelta(seconds=1)  # how fresh an endpoint's last_success_at is kept


def _endpoint_health(
    connection: Connection, good: list[Outcome], bad: list[Outcome], now: datetime
) -> None:
    good_ids = sorted({o.endpoint_id for o in good})
    bad_errors = {o.endpoint_id: o.error for o in bad if o.endpoint_id not in good_ids}
    # Several writers (dispatch workers, a worker's writer threads) record outcomes for the
    # same endpoints at once, each transaction holding its rows to its commit: waiting for one
    # another serialised them and, as one transaction may hold several rounds' outcomes,
    # deadlocked them (PostgreSQL aborts one: its outcomes are lost until the leases bring the
    # deliveries back as duplicates, tens of seconds later). An endpoint row another writer
    # holds is left to it: it is recording that endpoint's health at this very moment, and
    # this is advisory bookkeeping the next outcome writes again.
    unlocked = _unlocked_endpoints(connection, sorted({*good_ids, *bad_errors}))
    good_ids = [endpoint_id for endpoint_id in good_ids if endpoint_id in unlocked]
    bad_errors = {k: v for k, v in bad_errors.items() if k in unlocked}
    if good_ids:
        # An endpoint already healthy with a success in the last second is not rewritten:
        # a fan-out otherwise rewrote every endpoint's row once per batch of outcomes.
        connection.execute(
            update(endpoints)
            .where(
                endpoints.c.id.in_(good_ids),
                or_(
                    endpoints.c.last_success_at.is_(None),
                    endpoints.c.last_success_at < now - _HEALTH_RESOLUTION,
                    endpoints.c.failing_since.is_not(None),
                    endpoints.c.last_error.is_not(None),
                ),
            )
            .values(last_success_at=now, failing_since=None, last_error=None)
        )
    for endpoint_id, error in bad_errors.items():
        connection.execute(
            update(endpoints)
            .where(endpoints.c.id == endpoint_id)
            .values(failing_since=func.coalesce(endpoints.c.failing_since, now), last_error=error)
        )


def _unlocked_endpoints(connection: Connection, ids: list[str]) -> set[str]:
    """Those of ``ids`` whose rows this transaction could lock without waiting (locked now,
    in id order); all of them where a writer never waits (SQLite has one writer)."""
    if not ids or connection.dialect.name != "postgresql":
        return set(ids)
    free = (
        select(endpoints.c.id)
        .where(endpoints.c.id.in_(ids))
        .order_by(endpoints.c.id)
        .with_for_update(skip_locked=True)
    )
    return set(connection.execute(free).scalars())


def disable_endpoint(connection: Connection, endpoint_id: str, reason: str) -> None:
    connection.execute(
        update(endpoints)
        .where(endpoints.c.id == endpoint_id)
        .values(active=False, disabled_reason=reason, updated_at=datetime.now(UTC))
    )
    waiting = select(deliveries.c.id).where(
        deliveries.c.endpoint_id == endpoint_id,
        deliveries.c.state.in_(("pending", "standby")),
    )
    ids = list(connection.execute(waiting).scalars())
    if ids:
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids))
            .values(state="failed", last_error=f"endpoint disabled: {reason}")
        )
        # a site this endpoint was a route to is tried by its next route at once
        failover.fail_over(connection, ids, datetime.now(UTC))


def acknowledge(connection: Connection, delivery_id: str, at: datetime) -> str | None:
    """Acknowledge a delivery that was made; answer what the acknowledgement did.

    Only a delivery the hub actually made counts: ``"acknowledged"`` when it is delivered.
    A receiver may answer while its send is still in flight (it acknowledges before its
    ``2xx`` reaches us): the acknowledgement is held (``"held"``) and counts only if that
    send succeeds (``record``). Pending, failed or retrying deliveries are not touched
    (``None``), so a forged acknowledgement of a message never received stops no retry.
    """
    # Twice: on PostgreSQL the send's outcome may commit between the two statements (the
    # row leaves "sending" after the first looked for "delivered"); the second round sees it.
    for _ in range(2):
        result = connection.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.state == "delivered")
            .values(state="acknowledged", acknowledged_at=at, claimed_until=None)
        )
        if result.rowcount:
            failover.reached(connection, [delivery_id])  # the site's other routes are not sent
            return "acknowledged"
        held = connection.execute(
            update(deliveries)
            .where(
                deliveries.c.id == delivery_id,
                deliveries.c.state == "sending",
                deliveries.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=at)
        )
        if held.rowcount:
            return "held"
    return None


def get(connection: Connection, delivery_id: str) -> Any:
    query = (
        select(deliveries, endpoints.c.organization_id)
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(deliveries.c.id == delivery_id)
    )
    return connection.execute(query).first()


def for_alerts_and_org(connection: Connection, alert_ids: list[str], org_id: str) -> list[Any]:
    query = (
        select(deliveries.c.id)
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(deliveries.c.alert_id.in_(alert_ids), endpoints.c.organization_id == org_id)
    )
    return list(connection.execute(query).scalars())


def report_rows(connection: Connection, alert_id: str) -> list[Any]:
    query = (
        select(
            deliveries,
            endpoints.c.organization_id,
            endpoints.c.channel,
            endpoints.c.label,
            delivery_sites.c.name.label("site"),
        )
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .outerjoin(delivery_sites, delivery_sites.c.id == deliveries.c.site_id)
        .where(deliveries.c.alert_id == alert_id)
        .order_by(deliveries.c.id)
    )
    return list(connection.execute(query))


def alert_rows(connection: Connection, alert_ids: list[str]) -> dict[str, Any]:
    query = select(alerts).where(alerts.c.id.in_(alert_ids))
    return {row.id: row for row in connection.execute(query)}
