"""Queries for receivers' endpoints.

Settings (``config``) are sealed at rest with the secrets key (see ``store/sealed.py``) and
opened here, as rows are read: callers, the dispatcher and the channels see the plain JSON
document as before and never handle the key.
"""

from __future__ import annotations

import json
import logging
from collections import namedtuple
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from alertcommons.store.ids import new_id
from alertcommons.store.keyring import keys_of
from alertcommons.store.schema import delivery_sites, endpoints, organizations
from alertcommons.store.sealed import SealError, is_sealed, seal, unseal

log = logging.getLogger(__name__)


def _sealed(connection: Connection, endpoint_id: str, config: dict[str, Any]) -> str:
    key = keys_of(connection).secrets
    if key is None:
        raise SealError("no secrets key: endpoint settings are never stored in plain text")
    return seal(key, json.dumps(config, ensure_ascii=False), endpoint_id)


@cache
def _row_type(fields: tuple[str, ...]) -> Any:
    """A row like SQLAlchemy's (attributes, ``_mapping``), holding the opened settings."""
    base: Any = namedtuple("EndpointRowBase", fields)  # type: ignore[misc]

    class EndpointRow(base):
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(self._asdict())

    return EndpointRow


def _opened(connection: Connection, row: Any) -> Any:
    """The row with its settings opened; a row whose settings do not open is kept (listed,
    shown) with empty settings, and its deliveries fail and retry until the key is right.

    Settings in plain text are refused once there is a secrets key: the store sealed every
    earlier plaintext row when the key was first used, so plain text now can only have been
    written around the hub — e.g. to point a receiver's deliveries elsewhere.
    """
    key = keys_of(connection).secrets
    try:
        if key is not None and not is_sealed(row.config):
            raise SealError("they are in plain text, not sealed by this hub")
        config = unseal(key, row.config, row.id)
    except SealError as exc:
        log.error("settings of endpoint %s cannot be read: %s", row.id, exc)
        config = "{}"
    values = dict(row._mapping)
    values["config"] = config
    return _row_type(tuple(values))(**values)


def _select() -> Any:
    """Endpoints with the name of the site each is a route to (``site``; None alone)."""
    return select(endpoints, delivery_sites.c.name.label("site")).outerjoin(
        delivery_sites, delivery_sites.c.id == endpoints.c.site_id
    )


def create(
    connection: Connection,
    *,
    organization_id: str,
    channel: str,
    config: dict[str, Any],
    filter_document: dict[str, Any],
    label: str | None,
    site_id: str | None = None,
    route_order: int | None = None,
) -> str:
    now = datetime.now(UTC)
    endpoint_id = new_id()
    connection.execute(
        insert(endpoints).values(
            id=endpoint_id,
            organization_id=organization_id,
            channel=channel,
            config=_sealed(connection, endpoint_id, config),
            filter=json.dumps(filter_document, ensure_ascii=False),
            label=label,
            site_id=site_id,
            route_order=route_order,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )
    return endpoint_id


def get(connection: Connection, endpoint_id: str) -> Any:
    row = connection.execute(_select().where(endpoints.c.id == endpoint_id)).first()
    return None if row is None else _opened(connection, row)


def for_organization(connection: Connection, organization_id: str) -> list[Any]:
    query = _select().where(endpoints.c.organization_id == organization_id).order_by(endpoints.c.id)
    return [_opened(connection, row) for row in connection.execute(query)]


def all_endpoints(connection: Connection) -> list[Any]:
    query = _select().order_by(endpoints.c.id)
    return [_opened(connection, row) for row in connection.execute(query)]


def version(connection: Connection) -> tuple[Any, ...]:
    """Changes whenever any endpoint is added, changed, disabled or removed."""
    from sqlalchemy import func

    row = connection.execute(select(func.count(), func.max(endpoints.c.updated_at))).one()
    return tuple(row)


def active_filters(connection: Connection) -> list[tuple[str, str]]:
    query = select(endpoints.c.id, endpoints.c.filter).where(endpoints.c.active.is_(True))
    return [(row.id, row.filter) for row in connection.execute(query)]


def active_owners(connection: Connection) -> dict[str, tuple[str, str | None]]:
    """Each active endpoint's organization id and that organization's CAP sender: the names a
    Restricted or Private alert's ``addresses`` can give it by."""
    query = (
        select(endpoints.c.id, endpoints.c.organization_id, organizations.c.sender)
        .join(organizations, organizations.c.id == endpoints.c.organization_id)
        .where(endpoints.c.active.is_(True))
    )
    return {row.id: (row.organization_id, row.sender) for row in connection.execute(query)}


def change(connection: Connection, endpoint_id: str, values: dict[str, Any]) -> None:
    values = dict(values)
    if "config" in values:
        values["config"] = _sealed(connection, endpoint_id, values["config"])
    if "filter" in values:
        values["filter"] = json.dumps(values["filter"], ensure_ascii=False)
    values["updated_at"] = datetime.now(UTC)
    connection.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))


def active(connection: Connection, limit: int) -> dict[str, Any]:
    """Up to ``limit`` active endpoints, settings opened, by id: what a dispatcher keeps warm."""
    query = _select().where(endpoints.c.active.is_(True)).limit(limit)
    return {row.id: _opened(connection, row) for row in connection.execute(query)}


def by_ids(connection: Connection, ids: list[str]) -> dict[str, Any]:
    query = _select().where(endpoints.c.id.in_(ids))
    return {row.id: _opened(connection, row) for row in connection.execute(query)}


def seal_plaintext(connection: Connection) -> int:
    """Seal settings stored in plain text before sealing existed; return how many.

    Run once, in the transaction that first records the secrets key's fingerprint (see
    ``store/keyring.py``), so an upgraded hub holds no plaintext secrets after its first
    start, and plain text written later is never blessed. ``updated_at`` is left alone: the
    settings did not change.
    """
    key = keys_of(connection).secrets
    if key is None:
        return 0
    rows = connection.execute(select(endpoints.c.id, endpoints.c.config)).all()
    sealed = 0
    for endpoint_id, stored in rows:
        if is_sealed(stored):
            continue
        connection.execute(
            update(endpoints)
            .where(endpoints.c.id == endpoint_id, endpoints.c.config == stored)
            .values(config=seal(key, stored, endpoint_id))
        )
        sealed += 1
    return sealed


def unacknowledged_tests(connection: Connection, older_than: datetime) -> dict[str, int]:
    """Endpoints with test messages delivered or due before ``older_than`` and never
    acknowledged: equipment that may not be listening."""
    from sqlalchemy import func

    from alertcommons.store.schema import alerts, deliveries

    query = (
        select(deliveries.c.endpoint_id, func.count())
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(
            alerts.c.status == "Test",
            deliveries.c.state != "acknowledged",
            deliveries.c.created_at <= older_than,
        )
        .group_by(deliveries.c.endpoint_id)
    )
    return {endpoint_id: int(count) for endpoint_id, count in connection.execute(query)}
