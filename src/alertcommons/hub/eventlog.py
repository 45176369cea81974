"""Event lines for the operator's log (see ``alertcommons/logs.py``): an alert published, a
summary of delivery outcomes, a node or worker starting and stopping.

Deliveries are summed, not logged one by one: a national warning settles a hundred thousand
of them in a minute, and a line each would drown the log (the delivery board and
``/metrics`` have each one). Every ``every`` seconds, one ``deliveries`` line gives the counts
by channel and result since the last line; none when nothing settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from typing import Any

from alertcommons.hub.publish import Published
from alertcommons.logs import event
from alertcommons.store.deliveries import Outcome

RESULTS = {"pending": "retry"}  # the store's state → the word in metrics and logs


def published(item: Published) -> None:
    event(
        "alert.published" if item.created else "alert.repeated",
        alert=item.alert_id,
        sender=item.sender,
        identifier=item.identifier,
        deliveries=item.deliveries,
    )


def node(what: str, role: str, **fields: Any) -> None:
    """``node.start`` / ``node.stop`` with the process's role (api, api+dispatch, dispatch)."""
    event(f"node.{what}", role=role, pid=os.getpid(), **fields)


class DeliverySummary:
    def __init__(self, every: float) -> None:
        self.every = every
        self.counts: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    def settled(self, channel: str, outcome: Outcome) -> None:
        self.counts[f"{channel}.{RESULTS.get(outcome.state, outcome.state)}"] += 1

    def flush(self) -> None:
        if not self.counts:
            return
        counts, self.counts = dict(sorted(self.counts.items())), Counter()
        event("deliveries", total=sum(counts.values()), **counts)

    async def start(self) -> None:
        if self.every > 0:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.flush()
