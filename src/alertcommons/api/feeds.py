"""Atom feeds of CAP, for receivers that pull: ``/feeds/all.atom`` and ``/feeds/{area}.atom``.

Each entry is one alert, titled in the alert's language with its kind in that language's
words (【解除】…, "Lifted: …"; see jp/kinds.py), and links both to its public page
(``rel="alternate"``, ``type="text/html"``, for people) and to its signed CAP
(``rel="alternate"``, ``type="application/cap+xml"``, the shape public alert aggregators
read), each under the hub's public URL. Feeds are built
once per change and served from memory with an ``ETag``; a conditional GET that matches is
answered ``304 Not Modified``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from lxml import etree
from sqlalchemy import Connection, select

from alertcommons.hub.rendered import Rendered
from alertcommons.jp.codes import CodeError, name_of, normalize
from alertcommons.jp.kinds import kind_of, language_of, titled
from alertcommons.problems import NotFound
from alertcommons.store import alerts as alert_queries
from alertcommons.store.schema import alerts

from .deps import ServicesDep

router = APIRouter(tags=["feeds"])
ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50
CACHE_CONTROL = b"public, max-age=10"
ATOM_TYPE = b"application/atom+xml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@router.get(
    "/feeds/{name}.atom",
    summary="Atom feed of CAP alerts: 'all', or a local-government code",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, 304: {"description": "unchanged"}},
)
async def feed(name: str, request: Request, hub: ServicesDep) -> Response:
    try:
        key = feed_key(name)
    except CodeError as exc:
        raise NotFound(f"no feed '{name}': {exc}") from None
    cache = hub.rendered
    built = cache.get(cache_key(key))
    if built is None:
        base = hub.settings.public_base
        version = cache.version  # before the read: a publish during it leaves this uncached
        body = await hub.store.read(lambda c: _render(c, key, base, hub.settings.hub_name))
        built = cache.put(cache_key(key), body, version)
    status, headers, body = answer(built, ",".join(request.headers.getlist("if-none-match")))
    response = Response(body, status_code=status)
    response.raw_headers = headers  # the very headers the fast path sends (api/feedpath.py)
    return response


def feed_key(name: str) -> str:
    """The feed a ``{name}`` in the path names: ``all`` or a canonical code (CodeError if
    none). ``13101`` and ``131016`` (its check digit) are one feed, and one cache entry."""
    return name if name == "all" else normalize(name)


def cache_key(key: str) -> str:
    return f"feed:{key}"


def answer(built: Rendered, if_none_match: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body for a feed rendered as ``built``: ``304`` with no body when
    the client's ``If-None-Match`` (all its values, comma-joined) holds the ETag."""
    etag = built.etag.encode()
    headers = [(b"etag", etag), (b"cache-control", CACHE_CONTROL)]
    if if_none_match and not_modified(if_none_match, built.etag):
        return 304, headers, b""
    headers.append((b"content-length", str(len(built.body)).encode()))
    headers.append((b"content-type", ATOM_TYPE))
    return 200, headers, built.body


def not_modified(if_none_match: str, etag: str) -> bool:
    """Does ``If-None-Match`` match ``etag``? ``*``, or a list of tags compared weakly
    (``W/"x"`` matches ``"x"``), as RFC 9110 13.1.2 says for GET and HEAD."""
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def _render(connection: Connection, key: str, base: str, hub_name: str) -> bytes:
    query = select(alerts).where(alerts.c.scope == "Public").order_by(alerts.c.id.desc())
    if key != "all":
        query = query.where(alerts.c.id.in_(alert_queries.ids_for_area(key, follow_ups=True)))
    rows = list(connection.execute(query.limit(ENTRIES)))
    title = "All alerts" if key == "all" else f"Alerts for {name_of(key)} ({key})"
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})  # type: ignore[dict-item]
    _text(root, "id", f"{base}/feeds/{key}.atom")
    _text(root, "title", f"{hub_name}: {title}")
    updated = rows[0].received_at if rows else datetime(2000, 1, 1, tzinfo=UTC)
    _text(root, "updated", updated.isoformat())
    etree.SubElement(root, f"{{{ATOM}}}link", rel="self", href=f"{base}/feeds/{key}.atom")
    _text(etree.SubElement(root, f"{{{ATOM}}}author"), "name", hub_name)
    for row in rows:
        root.append(_entry(row, base))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _entry(row: Any, base: str) -> etree._Element:
    document = alert_queries.decode_json(row)
    info = (document.get("info") or [{}])[0]
    entry = etree.Element(f"{{{ATOM}}}entry")
    if info.get("language"):
        entry.set(XML_LANG, info["language"])
    _text(entry, "id", f"{base}/api/v1/alerts/{row.id}")
    headline = info.get("headline") or info.get("event") or row.identifier
    title = titled(headline, kind_of(document), language_of(info.get("language")))
    _text(entry, "title", title)
    _text(entry, "updated", row.received_at.isoformat())
    _text(entry, "published", row.sent.isoformat())
    _text(
        etree.SubElement(entry, f"{{{ATOM}}}author"), "name", info.get("senderName") or row.sender
    )
    # The page first: a feed reader that opens "the" link shows a person the page.
    etree.SubElement(
        entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=f"{base}/alerts/{row.id}"
    )
    etree.SubElement(
        entry,
        f"{{{ATOM}}}link",
        rel="alternate",
        type="application/cap+xml",
        href=f"{base}/api/v1/alerts/{row.id}/cap",
    )
    summary = info.get("description") or info.get("headline") or ""
    _text(entry, "summary", summary[:1000])
    for category in info.get("category", []):
        etree.SubElement(entry, f"{{{ATOM}}}category", term=category)
    return entry


def _text(parent: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(parent, f"{{{ATOM}}}{tag}").text = value
