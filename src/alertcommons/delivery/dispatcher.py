"""The dispatcher: claims due deliveries, most urgent first, sends, records, retries.

It runs as one task in each hub process. A claim is a lease, renewed while the send is in
progress: if the process dies mid-send the lease runs out and the delivery is due again (on
SQLite, where one process is the only sender, claims are released at start). Delivery is
therefore at least once; every message carries the alert's stable id so a receiver can drop a
repeat.

No endpoint can exhaust the budgets. Each endpoint has a small concurrency limit, and it is
applied when rows are *claimed*, not after: a delivery waiting for its endpoint's turn stays
pending in the store, holds no lease and takes no room in flight, so thousands of deliveries
queued behind receivers that never answer cost nothing. And whatever fills the room in flight,
a reserve above it is kept for the most urgent deliveries (national warnings, Immediate and
Extreme), so they reach healthy receivers at once (bench/slow_receivers.py measures it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from alertcommons.delivery.channels import Channel
from alertcommons.delivery.message import Message
from alertcommons.delivery.policy import next_attempt
from alertcommons.delivery.result import Delivered, DeliveryResult, FailedForGood, RetryAfter
from alertcommons.store import deliveries as delivery_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.deliveries import Claimed, Outcome
from alertcommons.store.engine import Store
from alertcommons.store.records import alert_records

log = logging.getLogger("alertcommons.delivery")


URGENT_PRIORITY = 0  # national warnings (-1) and Immediate + Extreme alerts (0)


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    lease_seconds: float = 30.0
    claim_batch: int = 1000
    max_in_flight: int = 4000
    urgent_reserve: int = 1000  # room above max_in_flight that only urgent deliveries may use
    per_endpoint: int = 4
    poll_seconds: float = 1.0
    retry_base_seconds: float = 2.0


@dataclass(slots=True)
class _Endpoint:
    id: str
    channel: str
    config: dict[str, Any]
    active: bool


class Dispatcher:
    def __init__(
        self,
        store: Store,
        channels: dict[str, Channel],
        settings: DispatchSettings | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.settings = settings or DispatchSettings()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._in_flight: dict[str, Claimed] = {}
        self._busy: dict[str, int] = {}  # endpoint id -> sends in flight
        self._outcomes: list[Outcome] = []
        self._disable: dict[str, str] = {}
        self._record_scheduled = False
        self._sends: set[asyncio.Task[None]] = set()
        self._messages: dict[str, Message] = {}
        self._endpoints: dict[str, _Endpoint] = {}
        self._stopping = False
        self._endpoints_version: tuple[Any, ...] | None = None
        self.on_endpoint_disabled: list[Callable[[str], None]] = []
        self.on_outcome: list[Callable[[str, Outcome], None]] = []  # (channel, outcome)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def wake(self) -> None:
        self._wake.set()

    def forget_endpoint(self, endpoint_id: str) -> None:
        self._endpoints.pop(endpoint_id, None)

    async def start(self, *, sole_sender: bool | None = None) -> None:
        """``sole_sender``: no other process sends from this database (default: a SQLite
        hub), so whatever was being sent when it stopped is due at once."""
        if sole_sender if sole_sender is not None else self.store.dialect == "sqlite":
            await self.store.write(delivery_queries.release_claims)
        self._task = asyncio.create_task(self._run(), name="dispatcher")
        self._renewer = asyncio.create_task(self._renew_leases(), name="dispatcher-leases")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in (self._task, self._renewer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for send in list(self._sends):
            send.cancel()
        await asyncio.gather(*self._sends, return_exceptions=True)
        await self._record()
        for channel in self.channels.values():
            await channel.close()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self._claim_round()
            except Exception:  # never let one bad round stop delivery for everyone
                log.exception("dispatch round failed")
                more = False
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)

    async def _claim_round(self) -> bool:
        """Claim what there is room for; True when more may be due right now."""
        settings = self.settings
        free = settings.max_in_flight - self.in_flight
        max_priority: int | None = None
        if free <= 0:  # the room is full: only the urgent reserve is left
            free = settings.max_in_flight + settings.urgent_reserve - self.in_flight
            max_priority = URGENT_PRIORITY
            if free <= 0:
                return False
        busy = dict(self._busy)
        full = [endpoint for endpoint, sends in busy.items() if sends >= settings.per_endpoint]
        lease = timedelta(seconds=settings.lease_seconds)

        def claim(connection: Connection) -> delivery_queries.ClaimRound:
            return delivery_queries.claim_due(
                connection,
                limit=min(settings.claim_batch, free),
                lease=lease,
                room=lambda endpoint: settings.per_endpoint - busy.get(endpoint, 0),
                skip_endpoints=full,
                max_priority=max_priority,
            )

        claimed = await self.store.write(claim)
        if claimed.claimed:
            await self._refresh_endpoints()
            await self._launch(claimed.claimed)
        return not claimed.exhausted and max_priority is None

    async def _refresh_endpoints(self) -> None:
        """Drop cached endpoints when any changed, on any node (a rotated secret, a new URL):
        one small aggregate read per round that has something to send."""
        version = await self.store.read(endpoint_queries.version)
        if version != self._endpoints_version:
            self._endpoints.clear()
            self._endpoints_version = version

    async def _renew_leases(self) -> None:
        lease = timedelta(seconds=self.settings.lease_seconds)
        interval = max(self.settings.lease_seconds / 3, 0.05)
        while not self._stopping:
            await asyncio.sleep(interval)
            ids = list(self._in_flight)
            if not ids:
                continue
            try:
                await self.store.write(
                    lambda c: delivery_queries.renew_leases(c, ids, lease)  # noqa: B023
                )
            except Exception:  # the next renewal tries again; a lapse costs a duplicate
                log.exception("could not renew %d delivery leases", len(ids))

    async def _launch(self, claimed: list[Claimed]) -> None:
        missing_alerts = sorted({c.alert_id for c in claimed} - self._messages.keys())
        missing_endpoints = sorted({c.endpoint_id for c in claimed} - self._endpoints.keys())
        if missing_alerts or missing_endpoints:
            await self.store.read(lambda c: self._load(c, missing_alerts, missing_endpoints))
        for claim in claimed:
            endpoint = self._endpoints.get(claim.endpoint_id)
            template = self._messages.get(claim.alert_id)
            self._in_flight[claim.id] = claim
            self._busy[claim.endpoint_id] = self._busy.get(claim.endpoint_id, 0) + 1
            task = asyncio.create_task(self._send(claim, endpoint, template))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    def _load(self, connection: Connection, alert_ids: list[str], endpoint_ids: list[str]) -> None:
        rows = delivery_queries.alert_rows(connection, alert_ids)
        records = {r["id"]: r for r in alert_records(connection, list(rows.values()))}
        for alert_id, row in rows.items():
            record = records[alert_id]
            self._messages[alert_id] = Message(
                alert_id=alert_id,
                delivery_id="",
                sender=row.sender,
                identifier=row.identifier,
                msg_type=row.msg_type,
                status=row.status,
                urgency=row.urgency,
                severity=row.severity,
                areas=tuple(record["areas"]),
                cap_xml=row.cap_xml,
                record=record,
                received_at=row.received_at.timestamp(),
            )
        for endpoint_id, row in endpoint_queries.by_ids(connection, endpoint_ids).items():
            self._endpoints[endpoint_id] = _Endpoint(
                row.id, row.channel, json.loads(row.config), bool(row.active)
            )
        if len(self._messages) > 2000:  # keep the newest alerts only
            for stale in list(self._messages)[:1000]:
                self._messages.pop(stale, None)

    async def _send(
        self, claim: Claimed, endpoint: _Endpoint | None, template: Message | None
    ) -> None:
        # Latency is the receiver's part: from the moment this attempt starts sending to
        # the receiver's response (not from the publish request: a retry's wait, the queue
        # and an acknowledgement made inside the request are no part of it).
        started = time.perf_counter()
        try:
            result = await self._attempt(claim, endpoint, template)
            self._settle(claim, result, template, (time.perf_counter() - started) * 1000)
        except asyncio.CancelledError:
            raise  # the lease brings it back after a restart
        except Exception as exc:  # a channel bug must not lose the delivery
            log.exception("channel failed on delivery %s", claim.id)
            self._settle(claim, RetryAfter(f"internal error: {exc!r}"), template)
        finally:
            self._in_flight.pop(claim.id, None)
            sends = self._busy.get(claim.endpoint_id, 1) - 1
            if sends > 0:
                self._busy[claim.endpoint_id] = sends
            else:
                self._busy.pop(claim.endpoint_id, None)
            # a slot opened where rows may have been left pending: claim again at once
            room_opened = self.in_flight == self.settings.max_in_flight - 1
            if sends == self.settings.per_endpoint - 1 or room_opened:
                self._wake.set()

    async def _attempt(
        self, claim: Claimed, endpoint: _Endpoint | None, template: Message | None
    ) -> DeliveryResult:
        if endpoint is None or not endpoint.active:
            return FailedForGood("the endpoint was removed or disabled")
        if template is None:
            return FailedForGood("the alert is gone")
        channel = self.channels.get(endpoint.channel)
        if channel is None:
            return FailedForGood(f"no channel named {endpoint.channel!r} on this hub")
        message = template.for_delivery(claim.id)  # shares the bodies rendered for the alert
        return await channel.send(message, endpoint.config)

    def _settle(
        self,
        claim: Claimed,
        result: DeliveryResult,
        template: Message | None,
        elapsed_ms: float | None = None,
    ) -> None:
        now = datetime.now(UTC)
        if isinstance(result, Delivered):
            outcome = Outcome(
                claim.id, claim.endpoint_id, "delivered", latency_ms=elapsed_ms, at=now
            )
        elif isinstance(result, RetryAfter):
            due = next_attempt(
                claim.attempts, result.seconds, now, self.settings.retry_base_seconds
            )
            if claim.expires_at is not None and due >= claim.expires_at:
                reason = f"{result.reason}; the alert expired before it could be delivered"
                outcome = Outcome(claim.id, claim.endpoint_id, "failed", error=reason)
            else:
                outcome = Outcome(claim.id, claim.endpoint_id, "pending", due, result.reason)
        else:
            outcome = Outcome(claim.id, claim.endpoint_id, "failed", error=result.reason)
            if result.disable:
                self._disable[claim.endpoint_id] = result.reason
                self._endpoints.pop(claim.endpoint_id, None)
        if claim.site_id is not None:  # what it did may move the site's other routes
            outcome = dataclasses.replace(outcome, site=True)
        self._outcomes.append(outcome)
        endpoint = self._endpoints.get(claim.endpoint_id)
        for listener in self.on_outcome:
            listener(endpoint.channel if endpoint else "unknown", outcome)
        if not self._record_scheduled:
            self._record_scheduled = True
            asyncio.get_running_loop().call_soon(
                lambda: self._keep(asyncio.ensure_future(self._record()))
            )

    def _keep(self, task: asyncio.Future[None]) -> None:
        self._sends.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._sends.discard)

    async def _record(self) -> None:
        self._record_scheduled = False
        outcomes, self._outcomes = self._outcomes, []
        disable, self._disable = self._disable, {}
        if not outcomes and not disable:
            return

        def write(connection: Connection) -> None:
            delivery_queries.record(connection, outcomes)
            for endpoint_id, reason in disable.items():
                delivery_queries.disable_endpoint(connection, endpoint_id, reason)

        try:
            await self.store.write(write)
        except Exception:  # the leases will bring these deliveries back
            log.exception("could not record %d delivery outcomes", len(outcomes))
        for endpoint_id in disable:
            for listener in self.on_endpoint_disabled:
                listener(endpoint_id)
        # a retry, or a failed route whose site's next route is now due
        if any(o.state == "pending" or o.site for o in outcomes):
            self.wake()
