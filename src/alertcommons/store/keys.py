"""The hub's signing certificates, current and earlier."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from alertcommons.store.schema import cluster_signing_key, hub_keys


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


CURRENT = 1  # the one row of cluster_signing_key


def cluster_key(connection: Connection) -> Any | None:
    """The cluster's current signing key (sealed), or ``None`` before a node has set one."""
    return connection.execute(
        select(cluster_signing_key).where(cluster_signing_key.c.id == CURRENT)
    ).first()


def set_cluster_key(
    connection: Connection, key_id: str, sealed_key: str, certificate_pem: str, *, replace: bool
) -> Any:
    """Make this key the cluster's current one (``replace``), or only if none is set yet;
    return the current row. The row is locked first, so two nodes seeding at once agree."""
    locked = connection.execute(
        select(cluster_signing_key.c.id)
        .where(cluster_signing_key.c.id == CURRENT)
        .with_for_update()
    ).first()
    values = {
        "key_id": key_id,
        "sealed_key": sealed_key,
        "certificate": certificate_pem,
        "set_at": datetime.now(UTC),
    }
    if locked is None:
        connection.execute(insert(cluster_signing_key).values(id=CURRENT, **values))
    elif replace:
        connection.execute(
            update(cluster_signing_key).where(cluster_signing_key.c.id == CURRENT).values(**values)
        )
    return cluster_key(connection)
