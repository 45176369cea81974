"""Queueing an alert site by site: the first route of a site now, the others on standby.

``store/failover.py`` then moves the standby routes' due times as attempts are made, fail or
are acknowledged. A standby route is queued as never due (``NOT_YET``): only the route before
it, once attempted, sets when it is — so a queue in front of a site's first route (a national
surge) does not send every route at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alertcommons.store.failover import NOT_YET

Routes = dict[str, tuple[str, int]]  # endpoint id -> (site id, route order)


def plan(targets: Iterable[str], routes: Routes, now: datetime) -> dict[str, dict[str, Any]]:
    """For each target endpoint that is a site's route: the delivery row's ``site_id``,
    ``route`` (its rank among this alert's routes to the site), ``state`` and ``due_at``."""
    by_site: dict[str, list[tuple[int, str]]] = {}
    for endpoint_id in targets:
        if endpoint_id in routes:
            site_id, order = routes[endpoint_id]
            by_site.setdefault(site_id, []).append((order, endpoint_id))
    planned: dict[str, dict[str, Any]] = {}
    for site_id, members in by_site.items():
        for rank, (_, endpoint_id) in enumerate(sorted(members)):
            planned[endpoint_id] = {
                "site_id": site_id,
                "route": rank,
                "state": "pending" if rank == 0 else "standby",
                "due_at": now if rank == 0 else NOT_YET,
            }
    return planned
