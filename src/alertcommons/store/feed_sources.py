"""The health of the sources the hub reads, one JSON document per source."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from alertcommons.store.schema import feed_sources


def save(connection: Connection, name: str, kind: str, health: dict[str, Any]) -> None:
    """Replace the source's health (a delete and an insert: the same on every database)."""
    connection.execute(delete(feed_sources).where(feed_sources.c.name == name))
    connection.execute(
        insert(feed_sources).values(
            name=name, kind=kind, health=json.dumps(health), updated_at=datetime.now(UTC)
        )
    )


def load(connection: Connection, kind: str) -> dict[str, dict[str, Any]]:
    rows = connection.execute(select(feed_sources).where(feed_sources.c.kind == kind))
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        try:
            health = json.loads(row.health)
        except ValueError:
            continue  # unreadable: the source starts afresh
        if isinstance(health, dict):
            found[row.name] = health
    return found
