"""The hub's signing certificates, current and earlier."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from alertcommons.store.schema import hub_keys


def remember(connection: Connection, key_id: str, certificate_pem: str, algorithm: str) -> None:
    """Record a certificate the first time the hub signs with it."""
    if connection.execute(select(hub_keys.c.id).where(hub_keys.c.id == key_id)).first():
        return
    connection.execute(
        insert(hub_keys).values(
            id=key_id,
            certificate=certificate_pem,
            algorithm=algorithm,
            first_used_at=datetime.now(UTC),
        )
    )


def all_keys(connection: Connection) -> list[Any]:
    return list(connection.execute(select(hub_keys).order_by(hub_keys.c.first_used_at.desc())))
