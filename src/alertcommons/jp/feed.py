"""The JMA's Atom feeds (気象庁防災情報XML フィード): which reports are new.

The JMA lists each report it issues as an Atom entry whose ``link`` is the XML document. The
high-frequency feeds (``regular``, ``extra``, ``eqvol``, ``other``) are rewritten every minute
with the last ten minutes of reports; the ``id`` of an entry is stable, so a reader keeps the
ids it has handled and takes only the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from lxml import etree

from alertcommons.cap.xmlsafe import ReadLimits, UnsafeXMLError, parse_xml
from alertcommons.errors import AlertCommonsError

ATOM = "{http://www.w3.org/2005/Atom}"
FEED_LIMITS = ReadLimits(max_bytes=4 * 1024 * 1024, max_depth=16)
HIGH_FREQUENCY_FEEDS = ("regular", "extra", "eqvol", "other")
XML_TYPES = ("application/xml", "text/xml", "application/cap+xml")


class FeedError(AlertCommonsError):
    """The document is not an Atom feed that can be read."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    updated: datetime | None
    url: str  # the report's XML, absolute


def read_feed(data: bytes, base_url: str) -> list[Entry]:
    """Entries of an Atom feed, oldest first (the order to publish them in)."""
    try:
        root = parse_xml(data, FEED_LIMITS)
    except UnsafeXMLError as exc:
        raise FeedError(str(exc)) from None
    if root.tag != f"{ATOM}feed":
        raise FeedError(f"not an Atom feed: root element is {root.tag}")
    entries = []
    for element in root.iterfind(f"{ATOM}entry"):
        entry_id = (element.findtext(f"{ATOM}id") or "").strip()
        link = _report_link(element)
        if not entry_id or link is None:
            continue  # an entry without an id or a document cannot be handled once
        entries.append(
            Entry(
                id=entry_id,
                title=(element.findtext(f"{ATOM}title") or "").strip(),
                updated=_moment(element.findtext(f"{ATOM}updated")),
                url=urljoin(base_url, link),
            )
        )
    # Every moment is aware (see ``_moment``), so sorting never raises; ties keep feed order.
    entries.sort(key=lambda e: (e.updated is None, e.updated or _EPOCH))
    return entries


def _report_link(element: etree._Element) -> str | None:
    links = list(element.iterfind(f"{ATOM}link"))
    for link in links:  # the report itself, not an alternate rendering
        if link.get("type") in XML_TYPES and link.get("href"):
            return str(link.get("href"))
    for link in links:
        if link.get("rel", "alternate") == "related" and link.get("href"):
            return str(link.get("href"))
    for link in links:  # never a page meant for people (an Alert Commons feed has one)
        if link.get("href") and link.get("type") != "text/html":
            return str(link.get("href"))
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(text: str | None) -> datetime | None:
    """A feed's date, tolerantly: RFC 3339 as Atom asks, a lower-case ``z``, a space for
    ``T``; one without an offset is taken as UTC (Atom's own zone). Unreadable: None, and
    the entry sorts last rather than stopping the feed."""
    if not text:
        return None
    cleaned = text.strip().replace(" ", "T", 1)
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
