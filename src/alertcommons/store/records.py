"""Stored alerts as the API, the public pages and the delivered JSON show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from alertcommons.jp.national import requests_activation
from alertcommons.store import alerts as alert_queries
from alertcommons.store.times import alert_time


def alert_record(
    row: Any,
    *,
    areas: list[str],
    references: list[str],
    referenced_by: list[str],
    now: datetime | None = None,
    superseded_by: str | None = None,
) -> dict[str, Any]:
    document = alert_queries.decode_json(row)
    return {
        "id": row.id,
        "identifier": row.identifier,
        "sender": row.sender,
        "sent": row.sent_text,
        "status": row.status,
        "msgType": row.msg_type,
        "scope": row.scope,
        "effective": alert_time(row.effective, row.sent_text),
        "expires": alert_time(row.expires, row.sent_text),
        "urgency": row.urgency,
        "severity": row.severity,
        "certainty": row.certainty,
        "active": alert_queries.is_active(row, now),
        "superseded_by": superseded_by,
        "references": references,
        "referenced_by": referenced_by,
        "areas": areas,
        "received_at": alert_time(row.received_at, row.sent_text),
        "activation": requests_activation(document),
        "alert": document,
        "links": {"self": f"/api/v1/alerts/{row.id}", "cap": f"/api/v1/alerts/{row.id}/cap"},
    }


def alert_records(
    connection: Connection,
    rows: list[Any],
    now: datetime | None = None,
    *,
    visible_to: str | None = None,
) -> list[dict[str, Any]]:
    """Records for stored alert rows, their areas and references loaded in one go.

    ``visible_to`` is who reads them, as in ``AlertQuery``: None (the default) the public,
    an organization id, or "*" (an admin). A record names only alerts its reader may see, so
    a public alert never points at a Restricted or Private one, not even by id."""
    found = alert_queries.links(connection, [row.id for row in rows])
    linked = {
        other
        for row in rows
        for other in (
            *found[row.id].references,
            *found[row.id].referenced_by,
            *([row.superseded_by] if row.superseded_by else []),
        )
    }
    shown = alert_queries.visible(connection, linked, visible_to)
    return [
        alert_record(
            row,
            areas=found[row.id].areas,
            references=[i for i in found[row.id].references if i in shown],
            referenced_by=[i for i in found[row.id].referenced_by if i in shown],
            now=now,
            superseded_by=row.superseded_by if row.superseded_by in shown else None,
        )
        for row in rows
    ]
