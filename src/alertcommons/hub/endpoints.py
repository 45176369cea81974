"""Endpoints: a receiver's channels and filters. Each change once, with its audit record and
the caches it invalidates (the outbox's matching index, the dispatcher's per-endpoint state).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from alertcommons.auth.principal import Principal
from alertcommons.delivery.channels import ChannelConfigError
from alertcommons.delivery.filters import FilterError, parse_filter
from alertcommons.hub import endpoints_ops
from alertcommons.hub.services import Services
from alertcommons.problems import NotFound, Unprocessable
from alertcommons.store import audit, sites
from alertcommons.store import endpoints as endpoint_queries

_RESERVED = {"channel", "filter", "label", "active", "backfill", "site", "route_order"}
SITE_NAME_MAX = 100
ROUTE_ORDER_MAX = 1000

# Bidirectional overrides and isolates reorder what the delivery board and reports show (a site
# named "\u202eevitca" reads as "active"); with the other invisible format characters they
# let one name pass for another. Japanese, emoji and every visible script stay allowed.
_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _unsafe(value: str) -> bool:
    """True when ``value`` holds a control character or an invisible format character."""
    return any(ord(c) < 32 or ord(c) == 127 or c in _INVISIBLE for c in value)


def site_name(value: Any) -> str | None:
    """A site's name as given: None (no site), or a name within the organization."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > SITE_NAME_MAX:
        raise Unprocessable(
            f"'site' is a name of 1 to {SITE_NAME_MAX} characters, or null", path="site"
        )
    if _unsafe(value):
        raise Unprocessable(
            "'site' must not hold control characters or invisible direction marks", path="site"
        )
    return value.strip()


LABEL_MAX = 200  # the console's field


def label_of(value: Any) -> str | None:
    """A label as given: None, or one line of text (a NUL cannot even be stored on
    PostgreSQL)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > LABEL_MAX:
        raise Unprocessable(f"'label' is text of at most {LABEL_MAX} characters", path="label")
    if _unsafe(value):
        raise Unprocessable(
            "'label' must not hold control characters or invisible direction marks", path="label"
        )
    return value


def route_order(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= ROUTE_ORDER_MAX:
        raise Unprocessable(
            f"'route_order' is a whole number from 0 to {ROUTE_ORDER_MAX} (lower is tried first)",
            path="route_order",
        )
    return value


def _join_site(connection: Connection, caller: Principal, organization_id: str, name: str) -> str:
    """The id of the organization's site ``name``, made (and audited) when new."""
    site_id, made = sites.ensure(connection, organization_id, name)
    if made:
        audit.append(
            connection,
            actor=caller.actor,
            action="site.create",
            subject=site_id,
            detail={"name": name, "ack_timeout_s": sites.DEFAULT_ACK_TIMEOUT_S},
        )
    return site_id


def checked(hub: Services, body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    channel_name = body.get("channel")
    # a list or object here is unhashable: refused like an unknown name
    channel = hub.dispatcher.channels.get(channel_name) if isinstance(channel_name, str) else None
    if channel is None:
        known = ", ".join(sorted(hub.dispatcher.channels))
        raise Unprocessable(f"'channel' must be one of: {known}", path="channel")
    settings = {k: v for k, v in body.items() if k not in _RESERVED}
    try:
        config = channel.check_config(settings)
        _, canonical_filter = parse_filter(body.get("filter"))
    except ChannelConfigError as exc:
        raise Unprocessable(str(exc), path="channel settings") from None
    except FilterError as exc:
        raise Unprocessable(str(exc), path=f"filter/{exc.key}") from None
    return str(channel_name), config, canonical_filter


async def own(hub: Services, caller: Principal, endpoint_id: str) -> Any:
    row = await hub.store.read(lambda c: endpoint_queries.get(c, endpoint_id))
    if row is None or (not caller.is_admin and row.organization_id != caller.organization_id):
        raise NotFound(f"no endpoint '{endpoint_id}' of yours")
    return row


async def create(
    hub: Services, caller: Principal, body: dict[str, Any]
) -> tuple[Any, dict[str, Any], int]:
    """Register an endpoint for the caller's organization: its row, checked config, and how
    many alerts in force it was queued (unless ``"backfill": false``)."""
    label = label_of(body.get("label"))
    backfill = body.get("backfill", True)
    if not isinstance(backfill, bool):
        raise Unprocessable("'backfill' is true (the default) or false", path="backfill")
    channel, config, canonical_filter = checked(hub, body)
    site = site_name(body.get("site"))
    order = route_order(body.get("route_order", 0))

    def apply(connection: Connection) -> Any:
        site_id = _join_site(connection, caller, caller.organization_id, site) if site else None
        endpoint_id = endpoint_queries.create(
            connection,
            organization_id=caller.organization_id,
            channel=channel,
            config=config,
            filter_document=canonical_filter,
            label=label,
            site_id=site_id,
            route_order=order,
        )
        routing = {"site": site, "route_order": order} if site else {}
        audit.append(
            connection,
            actor=caller.actor,
            action="endpoint.create",
            subject=endpoint_id,
            detail={"channel": channel, "filter": canonical_filter, **routing},
        )
        # The alerts already in force that it matches, unless it asked not to.
        queued = endpoints_ops.backfill(connection, endpoint_id) if backfill else 0
        return endpoint_queries.get(connection, endpoint_id), queued

    row, queued = await hub.store.write(apply)
    hub.outbox.invalidate()
    if queued:
        hub.dispatcher.wake()
    return row, config, queued


async def update(
    hub: Services, caller: Principal, endpoint_id: str, body: dict[str, Any]
) -> tuple[Any, int | None]:
    """Change settings, filter, label or active; the channel stays. The changed row, and when
    it was made active again, how many alerts in force it missed were queued."""
    row = await own(hub, caller, endpoint_id)
    merged = {
        **json.loads(row.config),
        "channel": row.channel,
        "filter": json.loads(row.filter),
        **body,
    }
    if merged.get("channel") != row.channel:
        raise Unprocessable("an endpoint's channel cannot change; register a new one")
    _, config, canonical_filter = checked(hub, merged)
    values: dict[str, Any] = {"config": config, "filter": canonical_filter}
    if "label" in body:
        values["label"] = label_of(body["label"])
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise Unprocessable("'active' is true or false", path="active")
        values["active"] = body["active"]
        if body["active"]:
            values["disabled_reason"] = None
    new_site = site_name(body["site"]) if "site" in body else None
    if "route_order" in body:
        values["route_order"] = route_order(body["route_order"])

    reactivated = values.get("active") is True and not row.active

    def apply(connection: Connection) -> tuple[Any, int]:
        if "site" in body:  # deliveries already queued keep the site they were queued for
            values["site_id"] = (
                _join_site(connection, caller, row.organization_id, new_site) if new_site else None
            )
        endpoint_queries.change(connection, endpoint_id, values)
        routing: dict[str, Any] = {k: body[k] for k in ("site", "route_order") if k in body}
        audit.append(
            connection,
            actor=caller.actor,
            action="endpoint.update",
            subject=endpoint_id,
            detail={"changed": sorted(body), **routing},
        )
        # Active again: the alerts in force it missed while it was not.
        queued = endpoints_ops.backfill(connection, endpoint_id) if reactivated else 0
        return endpoint_queries.get(connection, endpoint_id), queued

    updated, queued = await hub.store.write(apply)
    _forget(hub, endpoint_id)
    if queued:
        hub.dispatcher.wake()
    return updated, (queued if reactivated else None)


async def remove(hub: Services, caller: Principal, endpoint_id: str) -> None:
    """Stop delivering to an endpoint (kept, inactive, for its history)."""
    await own(hub, caller, endpoint_id)

    def apply(connection: Connection) -> None:
        endpoint_queries.change(
            connection, endpoint_id, {"active": False, "disabled_reason": "removed by its owner"}
        )
        audit.append(connection, actor=caller.actor, action="endpoint.delete", subject=endpoint_id)

    await hub.store.write(apply)
    _forget(hub, endpoint_id)


def _forget(hub: Services, endpoint_id: str) -> None:
    hub.outbox.invalidate()
    hub.dispatcher.forget_endpoint(endpoint_id)


async def rotate_secret(hub: Services, caller: Principal, endpoint_id: str) -> tuple[Any, str]:
    """Give an endpoint a new signing secret, made here; the row and the secret, which is
    shown this once. Deliveries sent from now on are signed with it (the channel reads its
    settings as each is sent), so a receiver checks both secrets while it switches over."""
    row = await own(hub, caller, endpoint_id)
    config = json.loads(row.config)
    if "secret" not in config:
        raise Unprocessable(f"a {row.channel} endpoint has no signing secret to rotate")
    # the channel makes a new secret when none is given, as when the endpoint was registered
    settings = {key: value for key, value in config.items() if key != "secret"}
    body = {**settings, "channel": row.channel, "filter": json.loads(row.filter)}
    _, fresh, _ = checked(hub, body)

    def apply(connection: Connection) -> Any:
        endpoint_queries.change(connection, endpoint_id, {"config": fresh})
        # the secret itself never enters the audit log
        audit.append(
            connection, actor=caller.actor, action="endpoint.rotate_secret", subject=endpoint_id
        )
        return endpoint_queries.get(connection, endpoint_id)

    updated = await hub.store.write(apply)
    _forget(hub, endpoint_id)
    return updated, str(fresh["secret"])
