"""Stored alerts as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from alertcommons.jp.national import requests_activation
from alertcommons.store import alerts as alert_queries


def alert_record(
    row: Any,
    *,
    areas: list[str],
    references: list[str],
    referenced_by: list[str],
    now: datetime | None = None,
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
        "effective": row.effective.isoformat(),
        "expires": row.expires.isoformat() if row.expires else None,
        "urgency": row.urgency,
        "severity": row.severity,
        "certainty": row.certainty,
        "active": alert_queries.is_active(row, now),
        "superseded_by": row.superseded_by,
        "references": references,
        "referenced_by": referenced_by,
        "areas": areas,
        "received_at": row.received_at.isoformat(),
        "activation": requests_activation(document),
        "alert": document,
        "links": {"self": f"/api/v1/alerts/{row.id}", "cap": f"/api/v1/alerts/{row.id}/cap"},
    }


def alert_records(
    connection: Connection, rows: list[Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Records for stored alert rows, their areas and references loaded in one go."""
    found = alert_queries.links(connection, [row.id for row in rows])
    return [
        alert_record(
            row,
            areas=found[row.id].areas,
            references=found[row.id].references,
            referenced_by=found[row.id].referenced_by,
            now=now,
        )
        for row in rows
    ]
