"""Queries for alerts: insert with areas and references, read, list with filters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, union, update

from alertcommons.jp.codes import parent_of
from alertcommons.store.schema import alert_areas, alert_references, alerts

LIVE_TYPES = ("Alert", "Update")


@dataclass(frozen=True, slots=True)
class NewAlert:
    id: str
    organization_id: str
    sender: str
    identifier: str
    sent: datetime
    sent_text: str
    status: str
    msg_type: str
    scope: str
    effective: datetime
    expires: datetime | None
    urgency: str | None
    severity: str | None
    certainty: str | None
    content_hash: str
    cap_xml: bytes
    cap_json: str
    received_at: datetime
    area_codes: tuple[str, ...]
    references: tuple[str, ...]  # ids of the alerts this one updates or cancels
    facts: object = None  # what delivery matching needs, computed before the write
    activation: bool = False  # a national issuer's warning that starts loudspeakers


_COLUMNS = [name for name in alerts.c.keys() if name != "superseded_by"]  # noqa: SIM118


def insert_alert(connection: Connection, alert: NewAlert) -> None:
    insert_alerts(connection, [alert])


def insert_alerts(connection: Connection, batch: list[NewAlert]) -> None:
    """Insert alerts with their areas and references; mark what they update or cancel."""
    if not batch:
        return
    rows = [{**{name: getattr(a, name) for name in _COLUMNS}, "superseded_by": None} for a in batch]
    connection.execute(insert(alerts), rows)
    areas = [{"alert_id": a.id, "code": code} for a in batch for code in a.area_codes]
    if areas:
        connection.execute(insert(alert_areas), areas)
    references = [{"alert_id": a.id, "referenced_id": r} for a in batch for r in a.references]
    if references:
        connection.execute(insert(alert_references), references)
    for alert in batch:
        if alert.references and alert.msg_type in ("Update", "Cancel"):
            # Statuses are separate worlds: an Exercise or Test message that names a real
            # alert never replaces or cancels it (nor the other way round). So are audiences:
            # a Restricted Cancel of a Public alert reaches only its own audience, and the
            # public, who never get it, keep the alert they were given.
            connection.execute(
                update(alerts)
                .where(
                    alerts.c.id.in_(alert.references),
                    alerts.c.superseded_by.is_(None),
                    alerts.c.status == alert.status,
                    alerts.c.scope == alert.scope,
                )
                .values(superseded_by=alert.id)
            )


def find(connection: Connection, sender: str, identifier: str) -> Any:
    query = select(alerts).where(alerts.c.sender == sender, alerts.c.identifier == identifier)
    return connection.execute(query).first()


def latest_of_event(
    connection: Connection, sender: str, prefix: str, status: str
) -> tuple[str, str] | None:
    """(identifier, sent) of the sender's latest alert of ``status`` whose identifier starts
    with ``prefix``: an event continues only within its own status."""
    query = (
        select(alerts.c.identifier, alerts.c.sent_text)
        .where(
            alerts.c.sender == sender,
            alerts.c.status == status,
            alerts.c.identifier.startswith(prefix, autoescape=True),
        )
        .order_by(alerts.c.sent.desc(), alerts.c.received_at.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    return (row.identifier, row.sent_text) if row else None


def find_many(connection: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Stored alerts for (sender, identifier) pairs, keyed the same way."""
    senders = sorted({sender for sender, _ in keys})
    identifiers = sorted({identifier for _, identifier in keys})
    # Both columns constrained, so the (sender, identifier) unique index serves the look-up.
    query = select(alerts).where(alerts.c.sender.in_(senders), alerts.c.identifier.in_(identifiers))
    wanted = set(keys)
    found = {}
    for row in connection.execute(query):
        if (row.sender, row.identifier) in wanted:
            found[(row.sender, row.identifier)] = row
    return found


def get(connection: Connection, alert_id: str) -> Any:
    return connection.execute(select(alerts).where(alerts.c.id == alert_id)).first()


@dataclass(frozen=True, slots=True)
class Links:
    """An alert's area codes, the alerts it references, and the alerts referencing it."""

    areas: list[str]
    references: list[str]
    referenced_by: list[str]


def visible(connection: Connection, alert_ids: set[str], visible_to: str | None) -> set[str]:
    """Which of ``alert_ids`` the viewer may see (``visible_to`` as in ``AlertQuery``)."""
    if visible_to == "*" or not alert_ids:
        return set(alert_ids)
    if visible_to is None:
        allowed = alerts.c.scope == "Public"
    else:
        allowed = or_(alerts.c.scope == "Public", alerts.c.organization_id == visible_to)
    shown: set[str] = set()
    for chunk in _chunks(sorted(alert_ids)):
        query = select(alerts.c.id).where(alerts.c.id.in_(chunk), allowed)
        shown.update(row.id for row in connection.execute(query))
    return shown


# Ids per IN list: what is in force has no page limit, so a list of rows can be long, and
# SQLite refuses a statement with more than 32,766 parameters.
ID_CHUNK = 2_000


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[start : start + ID_CHUNK] for start in range(0, len(ids), ID_CHUNK)]


def links(connection: Connection, alert_ids: list[str]) -> dict[str, Links]:
    """Links for many alerts in a few queries (per 2,000 alerts), not three per alert."""
    found = {alert_id: Links([], [], []) for alert_id in alert_ids}
    pairs_seen: set[tuple[str, str]] = set()
    for chunk in _chunks(list(found)):
        areas = select(alert_areas.c.alert_id, alert_areas.c.code).where(
            alert_areas.c.alert_id.in_(chunk)
        )
        for alert_id, code in connection.execute(areas):
            found[alert_id].areas.append(code)
        pairs = select(alert_references.c.alert_id, alert_references.c.referenced_id).where(
            or_(
                alert_references.c.alert_id.in_(chunk),
                alert_references.c.referenced_id.in_(chunk),
            )
        )
        for alert_id, referenced_id in connection.execute(pairs):
            if (alert_id, referenced_id) in pairs_seen:
                continue  # both ends in different chunks: found twice
            pairs_seen.add((alert_id, referenced_id))
            if alert_id in found:
                found[alert_id].references.append(referenced_id)
            if referenced_id in found:
                found[referenced_id].referenced_by.append(alert_id)
    for item in found.values():
        item.areas.sort()
    return found


@dataclass(frozen=True, slots=True)
class AlertQuery:
    active: bool | None = None
    area: str | None = None  # canonical: 2 or 5 digits
    sender: str | None = None
    status: str | None = None
    since: datetime | None = None
    cursor: str | None = None
    # None: every match. Only for what is in force (bounded by what is happening, not by
    # history): a page limit there hides an order in force behind newer alerts.
    limit: int | None = 50
    # Who asks: None sees public alerts only; an organization also sees its own; "*" all.
    visible_to: str | None = "*"


def active_clause(now: datetime) -> Any:
    return and_(
        alerts.c.msg_type.in_(LIVE_TYPES),
        alerts.c.superseded_by.is_(None),
        alerts.c.effective <= now,
        or_(alerts.c.expires.is_(None), alerts.c.expires > now),
    )


def list_alerts(connection: Connection, query: AlertQuery) -> list[Any]:
    now = datetime.now(UTC)
    statement = select(alerts).order_by(alerts.c.id.desc())
    if query.limit is not None:
        statement = statement.limit(query.limit)
    if query.active is True:
        statement = statement.where(active_clause(now))
    elif query.active is False:
        statement = statement.where(~active_clause(now))
    if query.sender is not None:
        statement = statement.where(alerts.c.sender == query.sender)
    if query.status is not None:
        statement = statement.where(alerts.c.status == query.status)
    if query.since is not None:
        statement = statement.where(alerts.c.sent >= query.since)
    if query.cursor is not None:
        statement = statement.where(alerts.c.id < query.cursor)
    if query.visible_to is None:
        statement = statement.where(alerts.c.scope == "Public")
    elif query.visible_to != "*":
        statement = statement.where(
            or_(alerts.c.scope == "Public", alerts.c.organization_id == query.visible_to)
        )
    if query.area is not None:
        statement = statement.where(alerts.c.id.in_(ids_for_area(query.area)))
    return list(connection.execute(statement))


def in_force(
    connection: Connection,
    *,
    area: str | None = None,
    sender: str | None = None,
    status: str | None = "Actual",
    visible_to: str | None = "*",
) -> list[Any]:
    """Every alert in force now (newest first), not a page of them: expired, cancelled and
    replaced alerts are left out by the query itself, so no number of newer alerts can push
    one in force out of sight."""
    query = AlertQuery(
        active=True,
        area=area,
        sender=sender,
        status=status,
        limit=None,
        visible_to=visible_to,
    )
    return list_alerts(connection, query)


def ids_for_area(code: str, *, follow_ups: bool = False) -> Any:
    if len(code) == 2:
        condition = alert_areas.c.code.startswith(code)
    else:
        # An alert for the prefecture, or for the designated city a ward belongs to, covers it.
        covering = [code, code[:2]]
        parent = parent_of(code)
        if parent:
            covering.append(parent)
        condition = alert_areas.c.code.in_(covering)
    in_area = select(alert_areas.c.alert_id).where(condition)
    if not follow_ups:
        return in_area
    # For a feed: updates and lifts of the area's alerts belong to it, whatever they name.
    later = select(alert_references.c.alert_id).where(alert_references.c.referenced_id.in_(in_area))
    return union(in_area, later)


def is_active(row: Any, now: datetime | None = None) -> bool:
    moment = now or datetime.now(UTC)
    return (
        row.msg_type in LIVE_TYPES
        and row.superseded_by is None
        and row.effective <= moment
        and (row.expires is None or row.expires > moment)
    )


def decode_json(row: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(row.cap_json)
    return document


def referenced_rows(connection: Connection, alert_ids: list[str]) -> dict[str, list[Any]]:
    """For each of ``alert_ids``, the stored alerts it updates or cancels."""
    if not alert_ids:
        return {}
    query = (
        select(alert_references.c.alert_id, alerts)
        .join(alerts, alerts.c.id == alert_references.c.referenced_id)
        .where(alert_references.c.alert_id.in_(alert_ids))
    )
    found: dict[str, list[Any]] = {}
    for row in connection.execute(query):
        found.setdefault(row.alert_id, []).append(row)
    return found
