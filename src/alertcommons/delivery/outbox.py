"""The outbox: one delivery row per endpoint an alert must reach, in the alert's transaction.

An update or cancel also goes to every endpoint that was sent what it replaces, whatever that
endpoint's filter says now: a receiver that showed an evacuation order must see it lifted —
within what the update's own scope and addresses allow.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from alertcommons.delivery.filters import Filter, FilterError, parse_filter
from alertcommons.delivery.matching import AlertFacts, Matcher
from alertcommons.delivery.policy import priority
from alertcommons.delivery.sites import Routes, plan
from alertcommons.store import deliveries, endpoints, sites
from alertcommons.store.alerts import NewAlert
from alertcommons.store.ids import new_ids

# Given an alert's id and its new delivery rows, marks those the dispatcher in this process
# takes at once (``Dispatcher.lend``); answers their lease's end, or None.
Handoff = Callable[[str, list[dict[str, Any]]], Any]


class DeliveryOutbox:
    """Callable as the publisher's outbox; keeps the endpoint index warm between alerts.

    Before each batch it asks the database for the endpoints' version (their count and latest
    change, one cheap query), so changes made through any hub node are seen at once; the
    index is rebuilt only when that changed, and only changed filters are parsed again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._version: tuple[Any, ...] | None = None
        self._parsed: dict[str, tuple[str, Filter]] = {}
        self._routes: Routes = {}
        self.handoff: Handoff | None = None  # set when this process runs the dispatcher

    def invalidate(self) -> None:
        """Rebuild before the next use. The index built so far is kept until then: an idle
        warm-up may have rebuilt it after the change already (a race the idle-warming test
        lost one run in six when this dropped the index)."""
        with self._lock:
            self._version = None

    def matcher(self, connection: Connection) -> Matcher:
        with self._lock:
            version = endpoints.version(connection)
            if self._matcher is not None and version == self._version:
                return self._matcher
            parsed: dict[str, tuple[str, Filter]] = {}
            for endpoint_id, document in endpoints.active_filters(connection):
                known = self._parsed.get(endpoint_id)
                if known is not None and known[0] == document:
                    parsed[endpoint_id] = known
                    continue
                try:
                    parsed[endpoint_id] = (document, parse_filter(json.loads(document))[0])
                except (FilterError, ValueError):
                    continue  # checked when stored; a filter this version cannot read is skipped
            self._parsed = parsed
            self._matcher = Matcher(
                ((key, entry[1]) for key, entry in parsed.items()),
                endpoints.active_owners(connection),
            )
            self._routes = sites.active_routes(connection)
            self._version = version
            return self._matcher

    def targets(
        self,
        connection: Connection,
        facts: Any,
        msg_type: str,
        references: Sequence[str],
        matcher: Matcher | None = None,
    ) -> set[str]:
        """The endpoints an alert goes to: those its facts match and, for an update or cancel,
        those that were sent what it replaces (``references``: stored alert ids). The
        publisher's dry run (``Publisher.check``, the console preview) asks the same."""
        if matcher is None:
            matcher = self.matcher(connection)
        targets = matcher.match(facts) if isinstance(facts, AlertFacts) else set()
        if references and msg_type in ("Update", "Cancel"):
            earlier = deliveries.recipients_of(connection, list(references))
            targets |= earlier & matcher.filters.keys()
        if isinstance(facts, AlertFacts):  # scope holds for earlier recipients too
            targets = {e for e in targets if matcher.may_reach(e, facts)}
        return targets

    def __call__(self, connection: Connection, batch: list[NewAlert]) -> list[int]:
        matcher = self.matcher(connection)  # one version check per batch
        routes = self._routes
        now = datetime.now(UTC)
        rows = []
        counts = []
        for record in batch:
            targets = self.targets(
                connection, record.facts, record.msg_type, record.references, matcher
            )
            rank = priority(record.urgency, record.severity, activation=record.activation)
            # a site's routes: the first now, the others on standby (delivery/sites.py)
            planned = plan(targets, routes, now) if routes else {}
            mine = []
            for endpoint_id, delivery_id in zip(
                sorted(targets), new_ids(len(targets)), strict=True
            ):
                mine.append(
                    {
                        "id": delivery_id,
                        "alert_id": record.id,
                        "endpoint_id": endpoint_id,
                        "priority": rank,
                        "state": "pending",
                        "due_at": now,
                        "attempts": 0,
                        "created_at": now,
                        "expires_at": record.expires,
                        "site_id": None,
                        "route": None,
                        "claimed_until": None,
                        **planned.get(endpoint_id, {}),
                    }
                )
            if self.handoff is not None and mine:
                self.handoff(record.id, mine)  # sent after the commit, if it succeeds
            rows += mine
            counts.append(len(targets))
        deliveries.insert_many(connection, rows)
        return counts
