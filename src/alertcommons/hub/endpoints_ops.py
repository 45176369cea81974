"""Receivers helping themselves: what an endpoint missed, what a filter would match.

* **Backfill**: a new endpoint, and an endpoint made active again, is sent the alerts in force
  that its filter and the alerts' scope let it have and that it has not been delivered (the
  outbox only ever sees alerts as they are published, so without this an endpoint registered
  — or re-activated — during an evacuation order would never hear of it until the next one).
* **Preview**: which alerts in force, and which of the last days, a filter would match,
  before it is saved.
* **Test delivery**: a signed ``status=Test`` message sent to one endpoint only, whatever its
  filter, tracked like any delivery (state, latency, acknowledgement).

Both match stored alerts with the very matcher the outbox uses, so a preview says what
delivery would do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select, update

from alertcommons.cap.jsonmap import from_json
from alertcommons.cap.model import Alert, Info
from alertcommons.cap.values import format_datetime
from alertcommons.delivery.filters import Filter, FilterError, parse_filter
from alertcommons.delivery.matching import AlertFacts, Matcher, facts_of
from alertcommons.delivery.policy import priority
from alertcommons.hub.services import Services
from alertcommons.hub.system_issuers import national_issuer
from alertcommons.jp.evacuation import JST
from alertcommons.jp.national import requests_activation
from alertcommons.problems import Conflict, NotFound
from alertcommons.store import alerts as alert_queries
from alertcommons.store import audit, failover, orgs, sites
from alertcommons.store import deliveries as delivery_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.ids import new_id
from alertcommons.store.schema import deliveries, delivery_sites

PREVIEW_DAYS = 7
# A preview scans at most this many of the newest alerts of those days, and lists at most
# PREVIEW_ITEMS of each kind (the counts are always complete for what was scanned).
PREVIEW_SCAN = 5_000
PREVIEW_ITEMS = 200
# What an endpoint already has: nothing is sent again.
_HAS_IT = ("pending", "sending", "delivered", "acknowledged", "standby", "skipped")


def _facts(row: Any) -> AlertFacts:
    return facts_of(from_json(alert_queries.decode_json(row)), issuer=row.organization_id)


def _matcher(endpoint_id: str, endpoint_filter: Filter, owner: tuple[str, str | None]) -> Matcher:
    return Matcher([(endpoint_id, endpoint_filter)], {endpoint_id: owner})


def backfill(connection: Connection, endpoint_id: str) -> int:
    """Queue for ``endpoint_id`` every alert in force it should have and has not got; answer
    how many. A delivery that failed (the endpoint was gone, disabled or unreachable) is
    tried again; one pending or made is left alone."""
    row = endpoint_queries.get(connection, endpoint_id)
    if row is None or not row.active:
        return 0
    try:
        endpoint_filter = parse_filter(json.loads(row.filter))[0]
    except (FilterError, ValueError):
        return 0
    organization = orgs.get_org(connection, row.organization_id)
    sender = organization.sender if organization is not None else None
    matcher = _matcher(endpoint_id, endpoint_filter, (row.organization_id, sender))
    in_force = [
        alert
        for alert in alert_queries.in_force(connection, status=None, visible_to="*")
        if alert.status in endpoint_filter.statuses
    ]
    wanted = [alert for alert in in_force if matcher.match(_facts(alert))]
    if not wanted:
        return 0
    existing = {
        found.alert_id: found.state
        for found in connection.execute(
            select(deliveries.c.alert_id, deliveries.c.state).where(
                deliveries.c.endpoint_id == endpoint_id,
                deliveries.c.alert_id.in_([alert.id for alert in wanted]),
            )
        )
    }
    now = datetime.now(UTC)
    fresh = []
    retried = 0
    for alert in wanted:
        state = existing.get(alert.id)
        if state in _HAS_IT:
            continue
        activation = requests_activation(alert_queries.decode_json(alert))
        rank = priority(alert.urgency, alert.severity, activation=activation)
        if state is None:
            routing = _as_route(connection, row.site_id, alert.id, now)
            if routing is None:
                continue  # its site was reached for this alert by another route
            fresh.append(
                {
                    "id": new_id(),
                    "alert_id": alert.id,
                    "endpoint_id": endpoint_id,
                    "priority": rank,
                    "state": "pending",
                    "due_at": now,
                    "attempts": 0,
                    "created_at": now,
                    "expires_at": alert.expires,
                    **routing,
                }
            )
            continue
        connection.execute(
            update(deliveries)
            .where(
                and_(
                    deliveries.c.alert_id == alert.id,
                    deliveries.c.endpoint_id == endpoint_id,
                    deliveries.c.state == "failed",
                )
            )
            .values(state="pending", due_at=now, attempts=0, last_error=None, claimed_until=None)
        )
        retried += 1
    delivery_queries.insert_many(connection, fresh)
    return len(fresh) + retried


def _as_route(
    connection: Connection, site_id: str | None, alert_id: str, now: datetime
) -> dict[str, Any] | None:
    """How a backfilled delivery joins its site's routes for that alert: alone, the first;
    behind routes already queued, the last one, on standby; None when the site was reached."""
    if site_id is None:
        return {"site_id": None, "route": None}
    if failover.is_reached(connection, alert_id, site_id):
        return None
    last = failover.last_route(connection, alert_id, site_id)
    if last is None:
        return {"site_id": site_id, "route": 0}
    site = connection.execute(
        select(delivery_sites.c.ack_timeout_s).where(delivery_sites.c.id == site_id)
    ).scalar()
    wait = timedelta(seconds=float(site) if site is not None else sites.DEFAULT_ACK_TIMEOUT_S)
    return {"site_id": site_id, "route": last + 1, "state": "standby", "due_at": now + wait}


def preview(
    connection: Connection,
    filter_document: Any,
    *,
    organization_id: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Which alerts in force, and which of the last ``PREVIEW_DAYS`` days, ``filter_document``
    would match for an endpoint of ``organization_id`` (None: an admin, who may see every
    alert; scope is then judged as for a receiver named by no alert).

    Raises :class:`FilterError` for a filter that would be refused when saved."""
    endpoint_filter, canonical = parse_filter(filter_document)
    moment = now or datetime.now(UTC)
    sender = None
    if organization_id is not None:
        organization = orgs.get_org(connection, organization_id)
        sender = organization.sender if organization is not None else None
    matcher = _matcher("preview", endpoint_filter, (organization_id or "", sender))
    since = moment - timedelta(days=PREVIEW_DAYS)
    recent = alert_queries.list_alerts(
        connection,
        alert_queries.AlertQuery(
            since=since, limit=PREVIEW_SCAN, visible_to=organization_id or "*"
        ),
    )
    in_force_rows = [
        row
        for row in alert_queries.in_force(
            connection, status=None, visible_to=organization_id or "*"
        )
        if row.status in endpoint_filter.statuses
    ]
    matched_in_force = [row for row in in_force_rows if matcher.match(_facts(row))]
    matched_recent = [
        row
        for row in recent
        if row.status in endpoint_filter.statuses and matcher.match(_facts(row))
    ]
    return {
        "filter": canonical,
        "days": PREVIEW_DAYS,
        "in_force": {
            "count": len(matched_in_force),
            "items": [_summary(row, moment) for row in matched_in_force[:PREVIEW_ITEMS]],
        },
        "last_days": {
            "count": len(matched_recent),
            "scanned": len(recent),
            "items": [_summary(row, moment) for row in matched_recent[:PREVIEW_ITEMS]],
        },
    }


def _summary(row: Any, now: datetime) -> dict[str, Any]:
    document = alert_queries.decode_json(row)
    info = (document.get("info") or [{}])[0]
    return {
        "id": row.id,
        "identifier": row.identifier,
        "sender": row.sender,
        "sent": row.sent_text,
        "status": row.status,
        "msgType": row.msg_type,
        "severity": row.severity,
        "event": info.get("event"),
        "headline": info.get("headline"),
        "active": alert_queries.is_active(row, now),
        "links": {"self": f"/api/v1/alerts/{row.id}"},
    }


TEST_ORG_ID = "endpoint-test"
TEST_SENDER = "endpoint-test.alertcommons"
TEST_NAME = "Alert Commons 配信テスト"
TEST_MINUTES = 60


def test_message(organization_id: str, now: datetime | None = None) -> Alert:
    """The test message: Private, addressed to the receiver's organization alone."""
    moment = (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    text = "これは、Alert Commons から受信設定への配信テストです。実際の情報ではありません。"
    return Alert(
        identifier=f"endpoint-test-{new_id()}",
        sender=TEST_SENDER,
        sent=sent,
        status="Test",
        msg_type="Alert",
        scope="Private",
        addresses=organization_id,
        infos=[
            Info(
                language="ja-JP",
                categories=["Other"],
                event="配信テスト",
                urgency="Unknown",
                severity="Unknown",
                certainty="Unknown",
                effective=sent,
                expires=format_datetime(moment + timedelta(minutes=TEST_MINUTES)),
                sender_name=TEST_NAME,
                headline="配信テスト（Alert Commons）",
                description=text,
            )
        ],
    )


async def send_test(services: Services, actor: str, endpoint_id: str) -> dict[str, Any]:
    """Store a signed test message and one delivery of it to ``endpoint_id``; the dispatcher
    sends it like any other. The caller has checked that the endpoint is theirs."""
    row = await services.store.read(lambda c: endpoint_queries.get(c, endpoint_id))
    if row is None:
        raise NotFound(f"no endpoint '{endpoint_id}' of yours")
    if not row.active:
        raise Conflict("the endpoint is not active; make it active (PATCH) to test it")
    issuer = await national_issuer(services.store, TEST_ORG_ID, TEST_NAME, TEST_SENDER)
    record = services.publisher.own_record(issuer, test_message(row.organization_id))
    delivery_id = new_id()

    def store(connection: Connection) -> None:
        alert_queries.insert_alert(connection, record)
        now = datetime.now(UTC)
        delivery_queries.insert_many(
            connection,
            [
                {
                    "id": delivery_id,
                    "alert_id": record.id,
                    "endpoint_id": endpoint_id,
                    "priority": priority(None, None),
                    "state": "pending",
                    "due_at": now,
                    "attempts": 0,
                    "created_at": now,
                    "expires_at": record.expires,
                }
            ],
        )
        audit.append(
            connection,
            actor=actor,
            action="endpoint.test",
            subject=endpoint_id,
            detail={"alert_id": record.id, "delivery_id": delivery_id},
        )

    await services.store.write(store)
    services.dispatcher.wake()
    return {
        "endpoint_id": endpoint_id,
        "alert_id": record.id,
        "identifier": record.identifier,
        "delivery_id": delivery_id,
        "links": {
            "alert": f"/api/v1/alerts/{record.id}",
            "deliveries": f"/api/v1/alerts/{record.id}/deliveries",
            "ack": f"/api/v1/deliveries/{delivery_id}/ack",
        },
    }
