"""Public pages: the alerts in force by prefecture and municipality, and one page per alert
with a verification panel a resident can trust (signature checked, authority named, a
permanent link and its QR code)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from alertcommons.geo.outlines import outline_geojson
from alertcommons.hub.keys import trusted_certificates
from alertcommons.hub.services import Services
from alertcommons.hub.verified import facts_from, read_signed
from alertcommons.jp.codes import CodeError, name_of, normalize, registry
from alertcommons.jp.kinds import is_lift
from alertcommons.jp.phrases import LANGUAGES as TEXT_LANGUAGES
from alertcommons.problems import NotFound
from alertcommons.store import alerts as alert_queries
from alertcommons.store import orgs
from alertcommons.store.records import alert_records

from .public_items import ending_of, facts, map_items, order_lines, place_label
from .render import language_of, page, security_headers

router = APIRouter(include_in_schema=False)
# During a disaster these pages are read by many at once: ten seconds in a shared cache (a
# proxy or CDN) carry the load; browsers always ask again, so a reload is never stale.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=0, s-maxage=10"}
# A lift (解除) stays on the index this long, marked as such: "is it over?" is what people ask.
LIFTS_SHOWN = timedelta(hours=24)


# What a page shows is bounded whatever an issuer sends: the index shows the start of each
# headline (the alert's page has the rest), and an alert's page shows each text up to a limit
# that no real warning reaches (the signed CAP, linked from the page, has everything).
INDEX_TEXT = 200
PAGE_TEXT = 10_000
PAGE_AREAS = 200


def clip(text: Any, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    if text is None:
        return None
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _page_info(info: dict[str, Any]) -> dict[str, Any]:
    shown = dict(info)
    for key in ("event", "headline", "description", "instruction"):
        shown[key] = clip(info.get(key), PAGE_TEXT)
    shown["area"] = [
        {**area, "areaDesc": clip(area.get("areaDesc"), INDEX_TEXT)}
        for area in (info.get("area") or [])[:PAGE_AREAS]
    ]
    return shown


def _hub(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


# Each language of the phrase table, named in itself, for the alert page's language links.
TEXT_LANGUAGE_NAMES = {
    "ja-JP": "日本語",
    "en-US": "English",
    "zh-CN": "简体中文",
    "zh-TW": "繁體中文",
    "ko-KR": "한국어",
    "pt-BR": "Português",
    "vi-VN": "Tiếng Việt",
    "ja-JP-x-easy": "やさしい にほんご",
}


def text_language_of(request: Request) -> str | None:
    """The alert's language the reader chose (``?text=zh-TW``), if it is one the hub writes;
    the page around it stays in ``?lang`` (ja or en)."""
    wanted = request.query_params.get("text")
    return wanted if wanted in TEXT_LANGUAGES else None


def pick_info(document: dict[str, Any], lang: str) -> dict[str, Any]:
    """The info block in the reader's language, else the first one."""
    infos = document.get("info") or [{}]
    for info in infos:
        if str(info.get("language", "en-US")).lower().startswith(lang):
            return dict(info)
    return dict(infos[0])


def place_names(codes: list[str], lang: str) -> list[dict[str, Any]]:
    """The alert's areas by name, in the reader's script (romaji on English pages)."""
    reg = registry()
    return [
        {"code": code, "name": place_label(code, lang)}
        for code in codes
        if code in reg.municipalities or code in reg.prefectures
    ]


def _claimed(info: dict[str, Any], authority: str | None) -> str | None:
    """The alert's own senderName when it says something other than the verified issuer."""
    claimed = str(info.get("senderName") or "").strip()
    return claimed if claimed and claimed != authority else None


async def _cached(
    request: Request, build: Callable[[Request], Awaitable[HTMLResponse]]
) -> Response:
    """A public page from the hub's short-lived cache (dropped whenever an alert is published,
    at most a second old otherwise), with an ETag so a reload can be a 304."""
    hub = _hub(request)
    key = f"page:{request.url.path}?lang={language_of(request)}&text={text_language_of(request)}"
    built = hub.rendered.get(key)
    if built is None:
        version = hub.rendered.version  # before the render: see RenderedCache.put
        response = await build(request)
        if response.status_code != 200:
            return response
        built = hub.rendered.put(key, bytes(response.body), version)
    headers = {**security_headers(hub.settings), **PUBLIC_CACHE, "ETag": built.etag}
    if request.headers.get("if-none-match") == built.etag:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(built.body, headers=headers)


# Outlines change only with a new package: a day in every cache, and an ETag for after.
OUTLINE_CACHE = "public, max-age=86400"
OUTLINE_KINDS = {"municipalities": 5, "prefectures": 2}


@router.get("/geo/{kind}/{code}.geojson")
async def outline(kind: str, code: str, request: Request) -> Response:
    """The outline of a municipality (5 or 6 digits) or prefecture (2 digits) as a GeoJSON
    Feature, drawn by the pages' maps without any tile server."""
    digits = OUTLINE_KINDS.get(kind)
    if digits is None:
        raise NotFound(f"no outlines of '{kind}': municipalities or prefectures")
    try:
        canonical = normalize(code)
    except CodeError as exc:
        raise NotFound(str(exc)) from exc
    if len(canonical) != digits:
        raise NotFound(f"'{code}' is not one of the {kind}")
    body = outline_geojson(canonical, name_of(canonical))
    if body is None:
        raise NotFound(f"no outline ships for '{code}' (a code newer than the 2021 data)")
    tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {**security_headers(_hub(request).settings), "Cache-Control": OUTLINE_CACHE}
    headers["ETag"] = tag
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    return await _cached(request, _index)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(alert_id: str, request: Request) -> Response:
    return await _cached(request, lambda r: _alert_page(alert_id, r))


async def _index(request: Request) -> HTMLResponse:
    hub = _hub(request)
    lang = language_of(request)
    now = datetime.now(UTC)

    def load(connection: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        # Everything in force, not a page of it: newer alerts never push one out of sight.
        rows = alert_queries.in_force(connection, status="Actual", visible_to=None)
        # Lifts of the last day stay listed, so a resident sees the order has ended.
        ended = alert_queries.list_alerts(
            connection,
            alert_queries.AlertQuery(
                active=False, status="Actual", since=now - LIFTS_SHOWN, visible_to=None
            ),
        )
        lifts = [
            row
            for row in ended
            if row.msg_type == "Cancel" and is_lift(alert_queries.decode_json(row))
        ]

        def records(chosen: list[Any]) -> list[dict[str, Any]]:
            return [
                {**record, "organization_id": row.organization_id}
                for row, record in zip(chosen, alert_records(connection, chosen), strict=True)
            ]

        # The verified issuer is the organization that published (its token was checked),
        # by its registered name; senderName is only what the alert says of itself.
        authorities = {o.id: o.name for o in orgs.list_orgs(connection)}
        return records(rows), records(lifts), authorities

    in_force, lifted, authorities = await hub.store.read(load)
    reg = registry()
    groups: dict[str, dict[str, Any]] = {}
    items = []

    def summary(record: dict[str, Any]) -> dict[str, Any]:
        info = pick_info(record["alert"], lang)
        headline = clip(info.get("headline") or info.get("event"), INDEX_TEXT)
        return {
            "id": record["id"],
            "headline": headline,
            "event": clip(info.get("event"), INDEX_TEXT),
            "severity": record["severity"],
            "sender_name": authorities.get(record["organization_id"]) or record["sender"],
            "claimed_name": _claimed(info, authorities.get(record["organization_id"])),
            "sent": record["sent"],
            "places": place_names(record["areas"], lang),
            **facts(record["alert"]),
        }

    for record in in_force:
        item = summary(record)
        for place in item["places"] or [{"code": "", "name": None}]:
            code = place["code"][:2]
            prefecture = reg.prefectures.get(code)
            label = place_label(code, lang) if prefecture else None
            group = groups.setdefault(code, {"code": code, "name": label, "places": {}})
            # A prefecture-wide alert is listed first, as the prefecture's own entry.
            town = place["name"] if len(place["code"]) == 5 else ""
            listed = group["places"].setdefault(town, [])
            if item not in listed:
                listed.append(item)
        items += map_items(record["alert"], record["areas"], item["headline"], lang)
    ordered = [groups[k] for k in sorted(groups, key=lambda k: (k == "", k))]
    for group in ordered:
        group["places"] = sorted(group["places"].items())
    return page(
        request,
        hub.settings,
        "public_index.html",
        {
            "groups": ordered,
            "count": len(in_force),
            "lifts": [summary(record) for record in lifted],
            "map_data": {"shapes": items},
        },
        headers=PUBLIC_CACHE,
    )


async def _alert_page(alert_id: str, request: Request) -> HTMLResponse:
    hub = _hub(request)
    lang = language_of(request)

    def load(connection: Any) -> tuple[dict[str, Any], Any, list[Any]] | None:
        row = alert_queries.get(connection, alert_id)
        if row is None or row.scope != "Public":
            return None
        record = {**alert_records(connection, [row])[0], "cap_xml": bytes(row.cap_xml)}
        organization = orgs.get_org(connection, row.organization_id)
        related = record["references"] + record["referenced_by"]
        others = [alert_queries.get(connection, other) for other in related]
        return record, organization, [o for o in others if o is not None]

    loaded = await hub.store.read(load)
    if loaded is None:
        return page(request, hub.settings, "public_missing.html", {}, status=404)
    record, organization, related = loaded
    # The text shown is read from the signed XML that was verified, never from the stored
    # JSON copy: nothing but those signed bytes may appear under "signature checks out".
    shown = read_signed(record["cap_xml"], await trusted_certificates(hub))
    document = shown.document if shown.document is not None else record["alert"]
    areas = shown.areas if shown.document is not None else record["areas"]
    permalink = f"{hub.settings.public_base}/alerts/{alert_id}"
    qr = segno.make(permalink, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    now = datetime.now(UTC)
    # Only the alert's own world is its history: a drill naming a real alert is not a later
    # version of it (the record already leaves out what the public may not see).
    by_id = {row.id: row for row in related if row.status == record["status"]}
    later = [by_id[i] for i in record["referenced_by"] if i in by_id]
    earlier = [by_id[i] for i in record["references"] if i in by_id]
    replaced_by = by_id.get(record["superseded_by"] or "")
    expired = record["expires"] is not None and datetime.fromisoformat(record["expires"]) < now
    chosen = text_language_of(request)
    infos = document.get("info") or []
    exact = [dict(i) for i in infos if chosen and i.get("language") == chosen]
    picked = exact[0] if exact else pick_info(document, lang)
    languages = list(dict.fromkeys(str(i.get("language") or "") for i in infos))
    if shown.document is not None:
        record = {**record, **facts_from(document, picked)}
    info = _page_info(picked)
    return page(
        request,
        hub.settings,
        "public_alert.html",
        {
            "record": record,
            "info": info,
            # A language tag without its private-use part: ja-JP-x-easy is read as Japanese.
            "info_lang": str(info.get("language") or "ja").split("-x-")[0],
            "text_languages": [
                (code, TEXT_LANGUAGE_NAMES.get(code, code))
                for code in languages
                if len(languages) > 1 and code
            ],
            "text_language": info.get("language"),
            "places": place_names(areas, lang),
            "facts": facts(document),
            "orders": order_lines(document, lang),
            "authority": organization.name if organization else record["sender"],
            "claimed_name": _claimed(info, organization.name if organization else None),
            "signature_ok": shown.verified,
            "signer": shown.signer,
            "key_id": hub.key.key_id,
            "permalink": permalink,
            "qr": Markup(qr),
            "earlier": earlier,
            "later": later,
            # How it ended, in the words that fit: an order lifted (解除), a shelter closed, a
            # headquarters dissolved — only a Cancel of a wrong message says 取り消されました.
            "ended": ending_of(
                json.loads(replaced_by.cap_json)
                if replaced_by is not None and replaced_by.msg_type == "Cancel"
                else document
                if record["msgType"] == "Cancel"
                else None
            ),
            "superseded": replaced_by is not None and replaced_by.msg_type != "Cancel",
            "expired": expired,
            "map_items": map_items(document, areas, None, lang),
        },
        headers=PUBLIC_CACHE,
    )
