"""CAP sources added at run time (``hub/sources.py``), and the leases that say which node
polls a source: plain query functions over a connection, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from alertcommons.store.ids import new_id
from alertcommons.store.schema import cap_sources, source_leases

FIELDS = (
    "name",
    "url",
    "directory",
    "organization",
    "certificates",
    "allow_unsigned",
    "allowed_hosts",
    "poll_seconds",
    "active",
)


def to_dict(row: Any) -> dict[str, Any]:
    record = dict(row._mapping)
    record["allowed_hosts"] = json.loads(record["allowed_hosts"] or "[]")
    for name in ("created_at", "updated_at"):
        record[name] = record[name].isoformat(timespec="seconds")
    return record


def all_sources(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(select(cap_sources).order_by(cap_sources.c.name))
    return [to_dict(row) for row in rows]


def get(connection: Connection, source_id: str) -> dict[str, Any] | None:
    row = connection.execute(select(cap_sources).where(cap_sources.c.id == source_id)).first()
    return None if row is None else to_dict(row)


def by_name(connection: Connection, name: str) -> dict[str, Any] | None:
    row = connection.execute(select(cap_sources).where(cap_sources.c.name == name)).first()
    return None if row is None else to_dict(row)


def _values(values: dict[str, Any]) -> dict[str, Any]:
    stored = {k: v for k, v in values.items() if k in FIELDS}
    if "allowed_hosts" in stored:
        stored["allowed_hosts"] = json.dumps(list(stored["allowed_hosts"]))
    return stored


def create(connection: Connection, values: dict[str, Any]) -> str:
    """A new source (its name must be free: ``IntegrityError`` otherwise)."""
    source_id = new_id()
    now = datetime.now(UTC)
    connection.execute(
        insert(cap_sources).values(id=source_id, created_at=now, updated_at=now, **_values(values))
    )
    return source_id


def change(connection: Connection, source_id: str, values: dict[str, Any]) -> None:
    connection.execute(
        update(cap_sources)
        .where(cap_sources.c.id == source_id)
        .values(updated_at=datetime.now(UTC), **_values(values))
    )


def remove(connection: Connection, source_id: str) -> None:
    connection.execute(delete(cap_sources).where(cap_sources.c.id == source_id))


def take_lease(connection: Connection, name: str, node: str, seconds: float) -> bool:
    """Hold (or keep holding) the lease on ``name`` for ``seconds``; False when another
    node holds it and its lease has not run out. One conditional update: two nodes asking at
    once cannot both win."""
    now = datetime.now(UTC)
    until = now + timedelta(seconds=seconds)
    taken = connection.execute(
        update(source_leases)
        .where(source_leases.c.name == name)
        .where((source_leases.c.node == node) | (source_leases.c.until < now))
        .values(node=node, until=until)
    )
    if taken.rowcount == 1:
        return True
    if connection.execute(select(source_leases.c.name).where(source_leases.c.name == name)).first():
        return False
    try:
        with connection.begin_nested():
            connection.execute(insert(source_leases).values(name=name, node=node, until=until))
    except IntegrityError:
        return False  # another node inserted it first
    return True


def lease_holders(connection: Connection) -> dict[str, tuple[str, datetime]]:
    rows = connection.execute(select(source_leases))
    return {row.name: (row.node, row.until) for row in rows}


def drop_lease(connection: Connection, name: str, node: str) -> None:
    """Let another node take the source at once (this one stops polling it)."""
    connection.execute(
        delete(source_leases).where(source_leases.c.name == name, source_leases.c.node == node)
    )
