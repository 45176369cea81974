"""The outbox: one delivery row per endpoint an alert must reach, in the alert's transaction.

An update or cancel also goes to every endpoint that was sent what it replaces, whatever that
endpoint's filter says now: a receiver that showed an evacuation order must see it lifted.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Connection

from alertcommons.delivery.filters import FilterError, parse_filter
from alertcommons.delivery.matching import AlertFacts, Matcher
from alertcommons.delivery.policy import priority
from alertcommons.store import deliveries, endpoints
from alertcommons.store.alerts import NewAlert
from alertcommons.store.ids import new_id


class DeliveryOutbox:
    """Callable as the publisher's outbox; keeps the endpoint index warm between alerts.

    The index is rebuilt when an endpoint changes through this hub, and at least every
    ``refresh_seconds`` so that changes made through another hub node are seen.
    """

    def __init__(self, refresh_seconds: float = 5.0) -> None:
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._matcher = None

    def matcher(self, connection: Connection) -> Matcher:
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < self.refresh_seconds
            if self._matcher is not None and fresh:
                return self._matcher
            filters = []
            for endpoint_id, document in endpoints.active_filters(connection):
                try:
                    filters.append((endpoint_id, parse_filter(json.loads(document))[0]))
                except (FilterError, ValueError):
                    continue  # checked when stored; a filter this version cannot read is skipped
            self._matcher = Matcher(filters)
            self._loaded_at = time.monotonic()
            return self._matcher

    def __call__(self, connection: Connection, batch: list[NewAlert]) -> list[int]:
        matcher = self.matcher(connection)
        now = datetime.now(UTC)
        rows = []
        counts = []
        for record in batch:
            facts = record.facts
            targets = matcher.match(facts) if isinstance(facts, AlertFacts) else set()
            if record.references and record.msg_type in ("Update", "Cancel"):
                earlier = deliveries.recipients_of(connection, list(record.references))
                targets |= earlier & matcher.filters.keys()
            rank = priority(record.urgency, record.severity)
            for endpoint_id in sorted(targets):
                rows.append(
                    {
                        "id": new_id(),
                        "alert_id": record.id,
                        "endpoint_id": endpoint_id,
                        "priority": rank,
                        "state": "pending",
                        "due_at": now,
                        "attempts": 0,
                        "created_at": now,
                        "expires_at": record.expires,
                    }
                )
            counts.append(len(targets))
        deliveries.insert_many(connection, rows)
        return counts
