"""Compose's lists of a municipality's registered districts and designated sites: what the
form offers (``choices``, shown by ``compose_places.html``) and what a ticked district or a
chosen site becomes in the form (``picked_districts``, ``with_picked_site``). Typing a
district's name, drawing it, or typing a shelter's details stays possible beside the lists.
"""

from __future__ import annotations

from typing import Any

from alertcommons.hub import places
from alertcommons.hub.services import Services
from alertcommons.jp import evacuation
from alertcommons.jp.codes import CodeError, normalize
from alertcommons.jp.site_columns import KINDS
from alertcommons.problems import Unprocessable
from alertcommons.store import places as place_queries


def site_key(kind: str, site_id: str) -> str:
    """The shelter id a registered site's open/full/close messages carry: its own id, with
    ``es-`` for an emergency site, so a site listed in both files under one NO stays two."""
    return site_id if kind == "shelter" else f"es-{site_id}"


def choices(
    hub: Services, form: dict[str, str], municipalities: list[tuple[str, str]]
) -> dict[str, Any]:
    """The chosen (or first) municipality's registered districts and sites, for compose's
    lists. A synchronous read — the compose page is rendered synchronously, and this is one
    indexed query (SQLite reads run on the event loop anyway)."""
    code = _form_code(form) or _form_code(
        {"municipality": municipalities[0][0] if municipalities else ""}
    )
    if code is None:
        return {"code": None, "districts": [], "sites": []}
    found = hub.store.run_read(
        lambda c: (place_queries.districts(c, code), place_queries.sites(c, code))
    )
    return {
        "code": code,
        # the outline too: compose's map draws the registered districts (static/places.js)
        "districts": [{"name": d.name, "kana": d.kana, "geometry": d.geometry} for d in found[0]],
        "sites": [
            {
                "value": f"{s.kind}:{s.site_id}",
                "key": site_key(s.kind, s.site_id),
                "kind": KINDS[s.kind],
                "name": s.name,
                "address": s.address,
                "lat": s.lat,
                "lon": s.lon,
                "capacity": s.capacity,
                "hazards": [h for h in s.hazards if h in evacuation.HAZARDS],
            }
            for s in found[1]
        ],
    }


def _form_code(form: dict[str, str]) -> str | None:
    try:
        code = normalize((form.get("municipality") or "").strip())
    except CodeError:
        return None
    return code if len(code) == 5 else None


async def picked_districts(
    hub: Services, form: dict[str, str], typed: list[tuple[str | None, str | None]]
) -> list[tuple[str | None, str | None]]:
    """The districts typed in, then those ticked in the registered list (``place_district_N``),
    each with its registered outline; a name typed in wins over the same name ticked."""
    names = [v.strip() for k, v in form.items() if k.startswith("place_district_") and v.strip()]
    code = _form_code(form)
    if not names or code is None:
        return typed
    registered = {d.name: d for d in await places.districts(hub, code)}
    chosen = list(typed)
    have = {name for name, _ in typed}
    for name in dict.fromkeys(names):
        district = registered.get(name)
        if district is None:
            raise Unprocessable(
                f"'{name}' is not a registered district",
                path="place_district",
                detail_ja=f"「{name}」は登録された地区ではありません。",
            )
        if name not in have:
            chosen.append((name, places.cap_polygon(district.geometry)))
    return chosen


async def with_picked_site(hub: Services, form: dict[str, str]) -> dict[str, str]:
    """The shelter form with the fields left empty filled from the registered site chosen
    in ``place_site`` (``kind:id``); what the officer typed stands."""
    chosen = (form.get("place_site") or "").strip()
    code = _form_code(form)
    if not chosen or code is None:
        return form
    kind, _, site_id = chosen.partition(":")
    site = next((s for s in await places.sites(hub, code, kind) if s.site_id == site_id), None)
    if site is None:
        raise Unprocessable(
            "the chosen site is not registered",
            path="place_site",
            detail_ja="選んだ避難所は登録されていません。",
        )
    filled = {
        "shelter_id": site_key(site.kind, site.site_id),
        "name": site.name,
        "address": site.address,
        "lat": f"{site.lat}",
        "lon": f"{site.lon}",
        "capacity": "" if site.capacity is None else str(site.capacity),
        **{f"hazard_{h}": "on" for h in site.hazards if h in evacuation.HAZARDS},
    }
    return {**filled, **{k: v for k, v in form.items() if v.strip()}}
