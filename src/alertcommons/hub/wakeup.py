"""Waking dispatch workers when an alert is published through another process.

A dispatch worker (``alertcommons dispatch``) shares nothing with the API nodes but the
database: on its own it learns of new deliveries by looking for due ones four times a second,
which puts up to a quarter of a second between a publish and its first send. When the cluster
has NATS (``ALERTCOMMONS_NATS_URL``), the node that stored an alert already announces its id on
``{cluster}.alerts`` (``hub/livebus.py``), after the commit; the worker listens there too (a
plain subscription, no JetStream consumer: a missed message costs only the poll's delay) and
claims at once.

NATS is never needed for delivery: while it is down or unreachable the worker keeps polling,
as it always does (retries fall due by the clock, not by a publish), and the client reconnects
by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from alertcommons.hub.natsclient import connect_until_up

log = logging.getLogger("alertcommons.wakeup")


class PublishWake:
    def __init__(self, nats_url: str, cluster: str, wake: Callable[[], None]) -> None:
        self.nats_url = nats_url
        self.subject = f"{cluster}.alerts"  # the subject LiveBus announces on
        self.wake = wake
        self.connected = False
        self._nats: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="publish-wake")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nats is not None:
            with contextlib.suppress(Exception):
                await self._nats.close()

    async def _follow(self) -> None:
        async def on_message(message: Any) -> None:
            self.wake()

        async def disconnected() -> None:
            self.connected = False
            log.warning("NATS connection lost: finding new deliveries by polling until it is back")

        async def reconnected() -> None:
            self.connected = True  # the client subscribes again by itself
            log.info("NATS connection back: woken by publishes again")

        async def subscribe(client: Any) -> None:
            await client.subscribe(self.subject, cb=on_message)

        self._nats = await connect_until_up(
            self.nats_url,
            name="alertcommons-dispatch",
            disconnected=disconnected,
            reconnected=reconnected,
            ready=subscribe,
        )
        self.connected = True
        self.wake()  # whatever was published while we were connecting
        log.info("woken by publishes through NATS at %s", self.nats_url)
