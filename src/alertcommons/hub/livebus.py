"""Live events across hub nodes: an alert published through one node reaches the live streams
of every node.

Two paths, so that nothing is lost when either fails:

* **NATS JetStream** (``ALERTCOMMONS_NATS_URL``): the node that stored an alert publishes its
  id on ``{cluster}.alerts``; every node subscribes and hands the alert to its own streams.
  This is the fast path (milliseconds).
* **The database**: every node also reads the ids of public alerts stored in the last minute,
  once a second while NATS is down or not configured, every few seconds otherwise. A NATS
  outage, a lost message or a node that restarts costs at most that delay, never an alert.
  The look-back window (not "after the last id seen") keeps alerts from a node whose clock is
  behind; ids already handed on are remembered, so nothing reaches a stream twice.

A single node on SQLite needs neither: every alert is published through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from alertcommons.hub.natsclient import connect_until_up
from alertcommons.store.engine import Store
from alertcommons.store.ids import floor_id
from alertcommons.store.schema import alerts

log = logging.getLogger("alertcommons.livebus")

LOOK_BACK_SECONDS = 60.0
REMEMBERED = 20_000
POLL_FAST = 1.0  # NATS down or not configured
POLL_SLOW = 5.0  # a safety net under NATS


class LiveBus:
    def __init__(
        self,
        store: Store,
        deliver: Callable[[str], None],
        *,
        nats_url: str | None = None,
        cluster: str = "alertcommons",
    ) -> None:
        self.store = store
        self.deliver = deliver
        self.nats_url = nats_url
        self.subject = f"{cluster}.alerts"
        self.stream_name = f"{cluster.upper().replace('.', '_')}_ALERTS"
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._nats: Any = None
        self._js: Any = None
        self._subscription: Any = None
        self.connected = False  # NATS is up and subscribed

    async def start(self) -> None:
        for alert_id in await self.store.read(self._recent_ids):
            self._remember(alert_id)  # already in the database: resuming clients get them
        self._tasks.append(asyncio.create_task(self._poll(), name="livebus-poll"))
        if self.nats_url:
            self._tasks.append(asyncio.create_task(self._follow_nats(), name="livebus-nats"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._nats is not None:
            with contextlib.suppress(Exception):
                await self._nats.close()

    def published_here(self, alert_id: str) -> None:
        """An alert this node stored: to its own streams at once, then to the other nodes."""
        if not self._remember(alert_id):
            return
        self.deliver(alert_id)
        if self._js is not None and self.connected:
            task = asyncio.ensure_future(self._announce(alert_id))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    def _arrived(self, alert_id: str) -> None:
        if self._remember(alert_id):
            self.deliver(alert_id)

    def _remember(self, alert_id: str) -> bool:
        if alert_id in self._seen:
            return False
        self._seen[alert_id] = None
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return True

    async def _announce(self, alert_id: str) -> None:
        try:
            await self._js.publish(self.subject, alert_id.encode(), timeout=2)
        except Exception as exc:  # the other nodes' database poll brings it to them
            log.warning("could not announce alert %s on NATS: %s", alert_id, exc)

    def _recent_ids(self, connection: Connection) -> list[str]:
        since = floor_id(time.time() - LOOK_BACK_SECONDS)
        query = (
            select(alerts.c.id)
            .where(alerts.c.id > since, alerts.c.scope == "Public")
            .order_by(alerts.c.id)
            .limit(5000)
        )
        return list(connection.execute(query).scalars())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SLOW if self.connected else POLL_FAST)
            try:
                for alert_id in await self.store.read(self._recent_ids):
                    self._arrived(alert_id)
            except Exception as exc:  # the database is down: try again
                log.warning("live-event poll failed: %s", exc)

    async def _follow_nats(self) -> None:
        async def disconnected() -> None:
            self.connected = False
            log.warning("NATS connection lost: live events from the database until it is back")

        async def reconnected() -> None:
            # A restarted server may have lost the stream and our consumer: set both up again.
            log.info("NATS connection back")
            self._tasks.append(asyncio.create_task(self._subscribe(), name="livebus-resub"))

        async def subscribe(client: Any) -> None:
            self._nats, self._js = client, client.jetstream()
            try:
                await self._subscribe()
            except BaseException:  # closed by connect_until_up: not ours to use or close
                self._nats = self._js = None
                self.connected = False
                raise

        await connect_until_up(
            self.nats_url or "",
            name="alertcommons-hub",
            disconnected=disconnected,
            reconnected=reconnected,
            ready=subscribe,
        )

    async def _subscribe(self) -> None:
        from nats.js.api import DeliverPolicy, StreamConfig

        config = StreamConfig(name=self.stream_name, subjects=[self.subject], max_age=3600.0)
        with contextlib.suppress(Exception):  # made by another node already
            await self._js.add_stream(config)
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()

        async def on_message(message: Any) -> None:
            self._arrived(message.data.decode())

        try:
            self._subscription = await self._js.subscribe(
                self.subject, cb=on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
            )
        except Exception as exc:
            log.warning("could not follow live events on NATS: %s", exc)
            return
        self.connected = True
        log.info("live events shared through NATS at %s", self.nats_url)
