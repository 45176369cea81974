"""Japan's messages as the hub issues them: what is in force for a municipality, and the
evacuation information an issuer asks for, built with the right Update/Cancel links.

Shared by the HTTP API and the console, so both say the same thing the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from alertcommons.auth.principal import Principal
from alertcommons.cap.model import Alert
from alertcommons.cap.values import CapValueError, format_datetime, parse_polygon
from alertcommons.jp import evacuation, shelters
from alertcommons.problems import Conflict, Unprocessable
from alertcommons.store import alerts as alert_queries
from alertcommons.store import orgs
from alertcommons.store.engine import Store

InForce = list[tuple[Any, dict[str, Any]]]


STATUSES = ("Actual", "Exercise", "Test", "System")


async def all_in_force(
    store: Store,
    code: str,
    sender: str | None,
    wanted: Callable[[dict[str, Any]], bool],
    status: str = "Actual",
) -> InForce:
    """Alerts of ``status`` in force for a municipality (newest first) whose CAP JSON is
    ``wanted``. Each status is its own world: a drill never hides, updates or replaces the
    real order, so every look-up names the one it means."""

    def find(connection: Any) -> InForce:
        found = []
        rows = alert_queries.in_force(connection, area=code, sender=sender, status=status)
        for row in rows:
            document = alert_queries.decode_json(row)
            if row.msg_type != "Cancel" and wanted(document):
                found.append((row, document))
        return found

    return await store.read(find)


async def languages_of(store: Store, organization_id: str) -> tuple[str, ...] | None:
    """The languages ``organization_id`` writes its standard messages in (None: every one)."""

    def find(connection: Any) -> tuple[str, ...] | None:
        row = orgs.get_org(connection, organization_id)
        return tuple(json.loads(row.languages)) if row is not None and row.languages else None

    return await store.read(find)


async def evacuation_in_force(
    store: Store, code: str, sender: str | None = None, status: str = "Actual"
) -> tuple[Any, dict[str, Any]] | None:
    found = await all_in_force(
        store, code, sender, lambda d: evacuation.level_of(d) is not None, status
    )
    return found[0] if found else None


def hazard_of(document: dict[str, Any] | None) -> str | None:
    for info in (document or {}).get("info", []):
        for pair in info.get("parameter", []):
            if pair.get("valueName") == evacuation.HAZARD_CODE:
                return str(pair.get("value"))
    return None


def level_in(alert: Alert) -> int | None:
    """The level an evacuation message sets (None for a lifting)."""
    if alert.msg_type == "Cancel":
        return None
    for pair in alert.infos[0].event_codes if alert.infos else []:
        if pair.value_name == evacuation.LEVEL_CODE and (pair.value or "").isdigit():
            return int(pair.value or 0)
    return None


async def evacuation_alert(
    store: Store,
    issuer: Principal,
    code: str,
    *,
    level: int | None,
    hazard: str | None,
    districts: Sequence[tuple[str | None, str | None]],
    lift: bool = False,
    hours: float = 24.0,
    status: str = "Actual",
) -> Alert:
    """The CAP message for issuing, changing or lifting evacuation information in ``code``.

    The municipality's orders in force are one message: issuing sets the named districts
    (none named: the whole municipality) and leaves the other orders standing; lifting
    removes the named districts (none named: every order; a name of None: the
    whole-municipality order alone). The result is an Alert (nothing
    was in force), an Update holding the complete new state, or, when no order is left, the
    Cancel of the message in force."""
    for number, (_, polygon) in enumerate(districts):
        if polygon is not None:
            try:
                parse_polygon(polygon)
            except CapValueError as exc:
                raise Unprocessable(str(exc), path=f"districts/{number}/polygon") from None
    current = await evacuation_in_force(store, code, issuer.sender, status)
    replaces = (current[0].identifier, current[0].sent_text) if current else None
    standing = {o.key: o for o in evacuation.orders_of(current[1])} if current else {}
    now = evacuation.moment_of()
    languages = await languages_of(store, issuer.organization_id)
    if lift:
        if current is None:
            raise Conflict(f"no evacuation information of yours is in force for {code}")
        names: list[str | None] = [name for name, _ in districts] or list(standing)
        missing = [name for name in names if name not in standing]
        if missing:
            raise Conflict(
                "no evacuation information of yours is in force for "
                + ", ".join(name or code for name in missing)
            )
        lifted = [standing.pop(name) for name in names]
        if not standing:  # nothing left: the Cancel (解除) of the message in force
            return evacuation.build_state(
                code,
                lifted,
                issuer.sender or "",
                status=status,
                hours=hours,
                replaces=replaces,
                lift=True,
                now=now,
                languages=languages,
            )
    else:
        if level is None or hazard is None:
            raise Unprocessable("issuing needs 'level' (3, 4 or 5) and 'hazard'")
        since = format_datetime(now)
        targets: list[tuple[str | None, str | None]] = list(districts) or [(None, None)]
        for name, polygon in targets:
            before = standing.get(name)
            if polygon is None and before is not None and before.district is not None:
                polygon = before.district.polygon  # a district keeps the outline it was given
            unchanged = before is not None and (before.level, before.hazard) == (level, hazard)
            standing[name] = evacuation.Standing(
                None if name is None else evacuation.District(name, polygon),
                level,
                hazard,
                before.since if unchanged and before is not None else since,
            )
    return evacuation.build_state(
        code,
        list(standing.values()),
        issuer.sender or "",
        status=status,
        hours=hours,
        replaces=replaces,
        now=now,
        languages=languages,
    )


def evacuation_orders(row: Any, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The orders of an evacuation message in force, as the state query lists them. A
    district inside a whole-municipality order stands at the higher of the two levels
    (``effective_level``)."""
    orders = evacuation.orders_of(document)
    whole = max((o.level for o in orders if o.key is None), default=0)
    return [
        {
            "district": o.key,
            "level": o.level,
            "effective_level": max(o.level, whole),
            "label": evacuation.LEVELS[o.level].ja,
            "hazard": o.hazard,
            "since": o.since,
            "alert_id": row.id,
        }
        for o in orders
    ]


def latest_shelters(in_force: InForce) -> list[dict[str, Any]]:
    """Each shelter's current facts (newest message first wins), sorted by shelter id."""
    listed: dict[str, dict[str, Any]] = {}
    for row, document in in_force:
        facts = shelters.shelter_of(document)
        if facts is not None and facts["id"] not in listed:
            listed[facts["id"]] = {**facts, "alert_id": row.id, "since": row.sent_text}
    return sorted(listed.values(), key=lambda f: str(f["id"]))


def latest_headquarters(in_force: InForce) -> dict[str, Any] | None:
    for row, document in in_force:
        kind = shelters.headquarters_of(document)
        if kind is not None:
            return {
                "kind": kind,
                "name": shelters.HQ_KINDS[kind][0],
                "alert_id": row.id,
                "identifier": row.identifier,
                "sent": row.sent_text,
            }
    return None


async def shelter_alert(store: Store, issuer: Principal, shelter: shelters.Shelter) -> Alert:
    """Opening is an Alert, a change of state an Update of the shelter's message in force,
    closing its Cancel."""
    found = await all_in_force(
        store,
        shelter.municipality,
        issuer.sender,
        lambda d: (shelters.shelter_of(d) or {}).get("id") == shelter.key,
        shelter.status,
    )
    if shelter.state == "closed" and not found:
        raise Conflict(f"shelter '{shelter.key}' of {shelter.municipality} is not open")
    replaces = (found[0][0].identifier, found[0][0].sent_text) if found else None
    languages = await languages_of(store, issuer.organization_id)
    return shelters.build_shelter(
        shelter, issuer.sender or "", replaces=replaces, languages=languages
    )


async def headquarters_alert(
    store: Store, issuer: Principal, code: str, kind: str, established: bool, status: str
) -> Alert:
    """Setting up is an Alert (an Update when one is in place), dissolving its Cancel."""
    current = latest_headquarters(
        await all_in_force(
            store,
            code,
            issuer.sender,
            lambda d: shelters.headquarters_of(d) is not None,
            status,
        )
    )
    if not established and current is None:
        raise Conflict(f"{code} has no headquarters of yours in place")
    return shelters.build_headquarters(
        code,
        current["kind"] if current and not established else kind,
        established,
        issuer.sender or "",
        replaces=(current["identifier"], current["sent"]) if current else None,
        status=status,
        languages=await languages_of(store, issuer.organization_id),
    )
