"""Which endpoints an alert must reach: an index over every endpoint's filter.

Area look-ups go through the code hierarchy (a prefecture code covers its municipalities, a
designated city covers its wards, and a prefecture-wide alert reaches every municipality
subscriber in it), JMA codes by equality, and geometry through a shapely STRtree: the alert's
polygons and circles, and the outline of each municipality or prefecture it names (the
shipped boundaries; a municipality newer than them by its registry centre), are tested
against subscribers' polygons and circles. Only the candidates an area look-up finds are then
checked against the rest of their filter.

Scope decides who may be reached at all (CAP 1.2 ``scope`` and ``addresses``): a Public alert
reaches whoever wants it; a Private one only the receivers its ``addresses`` name; a
Restricted one those it names, or, naming none, only its issuer's own endpoints. A receiver is
named by its organization id or its CAP sender (docs/receivers.md). An index built without
knowing who owns its entries (the public streams) never matches a non-Public alert.
"""

from __future__ import annotations

import contextlib
import shlex
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shapely import Geometry, Point, Polygon, STRtree

from alertcommons.auth.geometry import circle_shape
from alertcommons.auth.jurisdiction import area_codes, jma_codes
from alertcommons.cap.model import CERTAINTIES, SEVERITIES, URGENCIES, Alert, Info
from alertcommons.cap.values import CapValueError, parse_circle, parse_polygon
from alertcommons.delivery.filters import Filter
from alertcommons.geo.boundaries import boundaries
from alertcommons.jp.codes import CodeError, parent_of, registry

DELIVERED_TYPES = ("Alert", "Update", "Cancel")


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What matching needs to know of an alert, computed once per alert."""

    status: str
    msg_type: str
    codes: frozenset[str]  # canonical local-government codes
    jma_codes: frozenset[str]
    shapes: tuple[Geometry, ...]
    infos: tuple[Info, ...]
    scope: str = "Public"
    addresses: frozenset[str] = frozenset()
    issuer: str | None = None  # the publishing organization's id


def addresses_of(text: str | None) -> frozenset[str]:
    """CAP ``addresses``: space-separated, an address holding spaces in double quotes."""
    if not text:
        return frozenset()
    try:
        return frozenset(shlex.split(text, posix=True))
    except ValueError:  # an unbalanced quote: read it as plain words
        return frozenset(text.replace('"', " ").split())


def facts_of(alert: Alert, issuer: str | None = None) -> AlertFacts:
    codes: set[str] = set()
    jma: set[str] = set()
    shapes: list[Geometry] = []
    for info in alert.infos:
        for area in info.areas:
            with contextlib.suppress(CodeError):  # a national body's unusual code: see below
                codes.update(area_codes(area))
            # The very (kind, code) pairs jurisdiction checked: nothing else routes.
            jma.update(code for _, code in jma_codes(area))
            for text in area.polygons:
                with contextlib.suppress(CapValueError):
                    shapes.append(Polygon([(p.lon, p.lat) for p in parse_polygon(text)]))
            for text in area.circles:
                try:
                    c = parse_circle(text.strip())
                except CapValueError:
                    continue
                shapes.append(circle_shape(c.center.lat, c.center.lon, c.radius_km))
    # A coded area is its outline, so that a filter drawn as a shape gets an alert for a
    # municipality or prefecture it overlaps, not only one whose centre it holds.
    municipalities = registry().municipalities
    outlines = boundaries()
    for code in codes:
        outline = outlines.outline(code) if len(code) in (2, 5) else None
        if outline is not None:
            shapes.append(outline)
        elif len(code) == 5 and code in municipalities:  # created after the outlines' date
            place = municipalities[code]
            shapes.append(Point(place.lon, place.lat))
    return AlertFacts(
        status=alert.status or "",
        msg_type=alert.msg_type or "",
        codes=frozenset(codes),
        jma_codes=frozenset(jma),
        shapes=tuple(shape for shape in shapes if shape.is_valid),
        infos=tuple(alert.infos),
        scope=(alert.scope or "").strip(),
        addresses=addresses_of(alert.addresses),
        issuer=issuer,
    )


class Matcher:
    def __init__(
        self,
        filters: Iterable[tuple[str, Filter]],
        owners: Mapping[str, tuple[str, str | None]] | None = None,
    ) -> None:
        """``owners``: each endpoint's organization id and CAP sender, for scope checks."""
        self.owners: Mapping[str, tuple[str, str | None]] = owners or {}
        self.filters: dict[str, Filter] = {}
        self._by_code: dict[str, set[str]] = defaultdict(set)
        self._by_prefecture: dict[str, set[str]] = defaultdict(set)
        self._by_jma: dict[str, set[str]] = defaultdict(set)
        self._anywhere: set[str] = set()
        geometries: list[Geometry] = []
        self._geometry_owner: list[str] = []
        for endpoint_id, endpoint_filter in filters:
            self.filters[endpoint_id] = endpoint_filter
            if endpoint_filter.anywhere:
                self._anywhere.add(endpoint_id)
            for code in endpoint_filter.areas:
                self._by_code[code].add(endpoint_id)
                self._by_prefecture[code[:2]].add(endpoint_id)
            for code in endpoint_filter.jma_areas:
                self._by_jma[code].add(endpoint_id)
            if endpoint_filter.geometry is not None:
                geometries.append(endpoint_filter.geometry)
                self._geometry_owner.append(endpoint_id)
        self._tree = STRtree(geometries) if geometries else None

    def __len__(self) -> int:
        return len(self.filters)

    def match(self, facts: AlertFacts) -> set[str]:
        if facts.msg_type not in DELIVERED_TYPES:
            return set()
        candidates = set(self._anywhere)
        for code in facts.codes:
            if len(code) == 2:
                candidates |= self._by_prefecture.get(code, set())
                continue
            candidates |= self._by_code.get(code, set())
            candidates |= self._by_code.get(code[:2], set())
            parent = parent_of(code)
            if parent:
                candidates |= self._by_code.get(parent, set())
        for code in facts.jma_codes:
            candidates |= self._by_jma.get(code, set())
        if self._tree is not None:
            for shape in facts.shapes:
                for index in self._tree.query(shape, predicate="intersects"):
                    candidates.add(self._geometry_owner[int(index)])
        return {
            e for e in candidates if self.may_reach(e, facts) and _wants(self.filters[e], facts)
        }

    def may_reach(self, endpoint_id: str, facts: AlertFacts) -> bool:
        """Does the alert's scope allow it to reach this endpoint at all?"""
        if facts.scope == "Public":
            return True
        owner = self.owners.get(endpoint_id)
        if owner is None:
            return False
        organization_id, sender = owner
        if facts.addresses:
            return organization_id in facts.addresses or (
                sender is not None and sender in facts.addresses
            )
        return facts.scope == "Restricted" and organization_id == facts.issuer


def _wants(endpoint_filter: Filter, facts: AlertFacts) -> bool:
    if facts.status not in endpoint_filter.statuses:
        return False
    if not facts.infos:
        return True  # a Cancel without info: wanted by whoever wants its area
    return any(_info_wanted(endpoint_filter, info) for info in facts.infos)


def _at_least(value: str | None, minimum: str | None, order: tuple[str, ...]) -> bool:
    if minimum is None:
        return True
    if value not in order or value == "Unknown":
        return False
    return order.index(value) <= order.index(minimum)


def _info_wanted(f: Filter, info: Info) -> bool:
    if f.categories and not f.categories.intersection(info.categories):
        return False
    if f.events and (info.event or "") not in f.events:
        return False
    if f.event_codes and not f.event_codes.intersection(
        (pair.value or "") for pair in info.event_codes
    ):
        return False
    if not _at_least(info.urgency, f.min_urgency, URGENCIES):
        return False
    if not _at_least(info.severity, f.min_severity, SEVERITIES):
        return False
    if not _at_least(info.certainty, f.min_certainty, CERTAINTIES):
        return False
    if f.languages:
        language = info.effective_language.lower()
        return any(
            language == w.lower() or language.startswith(w.lower() + "-") for w in f.languages
        )
    return True
