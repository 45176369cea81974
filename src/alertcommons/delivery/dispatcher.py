"""The dispatcher: claims due deliveries, most urgent first, sends, records, retries.

It runs as one task in each hub process. A claim is a lease: if the process dies mid-send the
lease runs out and the delivery is due again (on SQLite, where one process is the only
sender, claims are released at start). Delivery is therefore at least once; every message
carries the alert's stable id so a receiver can drop a repeat.

One slow receiver cannot hold up the rest: each endpoint has its own small concurrency limit,
and everything runs on fixed budgets (claims per round, sends in flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from alertcommons.delivery.channels import Channel
from alertcommons.delivery.message import Message
from alertcommons.delivery.policy import next_attempt
from alertcommons.delivery.result import Delivered, DeliveryResult, FailedForGood, RetryAfter
from alertcommons.hub.records import alert_records
from alertcommons.store import deliveries as delivery_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.deliveries import Claimed, Outcome
from alertcommons.store.engine import Store

log = logging.getLogger("alertcommons.delivery")


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    lease_seconds: float = 30.0
    claim_batch: int = 1000
    max_in_flight: int = 4000
    per_endpoint: int = 4
    poll_seconds: float = 1.0
    retry_base_seconds: float = 2.0


@dataclass(slots=True)
class _Endpoint:
    id: str
    channel: str
    config: dict[str, Any]
    active: bool
    limit: asyncio.Semaphore


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
        self._in_flight = 0
        self._room = asyncio.Event()
        self._room.set()
        self._outcomes: list[Outcome] = []
        self._disable: dict[str, str] = {}
        self._record_scheduled = False
        self._sends: set[asyncio.Task[None]] = set()
        self._messages: dict[str, Message] = {}
        self._endpoints: dict[str, _Endpoint] = {}
        self._stopping = False
        self.on_endpoint_disabled: list[Callable[[str], None]] = []

    def wake(self) -> None:
        self._wake.set()

    def forget_endpoint(self, endpoint_id: str) -> None:
        self._endpoints.pop(endpoint_id, None)

    async def start(self) -> None:
        if self.store.dialect == "sqlite":
            await self.store.write(delivery_queries.release_claims)
        self._task = asyncio.create_task(self._run(), name="dispatcher")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._sends):
            task.cancel()
        await asyncio.gather(*self._sends, return_exceptions=True)
        await self._record()
        for channel in self.channels.values():
            await channel.close()

    async def _run(self) -> None:
        lease = timedelta(seconds=self.settings.lease_seconds)
        while not self._stopping:
            await self._room.wait()
            free = min(self.settings.claim_batch, self.settings.max_in_flight - self._in_flight)
            try:
                claimed = await self.store.write(
                    lambda c, n=free: delivery_queries.claim_due(c, limit=n, lease=lease)  # type: ignore[misc]
                )
                if claimed:
                    await self._launch(claimed)
            except Exception:  # never let one bad round stop delivery for everyone
                log.exception("dispatch round failed")
                claimed = []
            if len(claimed) < free:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)

    async def _launch(self, claimed: list[Claimed]) -> None:
        missing_alerts = sorted({c.alert_id for c in claimed} - self._messages.keys())
        missing_endpoints = sorted({c.endpoint_id for c in claimed} - self._endpoints.keys())
        if missing_alerts or missing_endpoints:
            await self.store.read(lambda c: self._load(c, missing_alerts, missing_endpoints))
        for claim in claimed:
            endpoint = self._endpoints.get(claim.endpoint_id)
            template = self._messages.get(claim.alert_id)
            self._in_flight += 1
            if self._in_flight >= self.settings.max_in_flight:
                self._room.clear()
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
                record=record | {"received_at_epoch": row.received_at.timestamp()},
            )
        for endpoint_id, row in endpoint_queries.by_ids(connection, endpoint_ids).items():
            self._endpoints[endpoint_id] = _Endpoint(
                row.id,
                row.channel,
                json.loads(row.config),
                bool(row.active),
                asyncio.Semaphore(self.settings.per_endpoint),
            )
        if len(self._messages) > 2000:  # keep the newest alerts only
            for stale in list(self._messages)[:1000]:
                self._messages.pop(stale, None)

    async def _send(
        self, claim: Claimed, endpoint: _Endpoint | None, template: Message | None
    ) -> None:
        try:
            result = await self._attempt(claim, endpoint, template)
            self._settle(claim, result, template)
        except asyncio.CancelledError:
            raise  # the lease brings it back after a restart
        except Exception as exc:  # a channel bug must not lose the delivery
            log.exception("channel failed on delivery %s", claim.id)
            self._settle(claim, RetryAfter(f"internal error: {exc!r}"), template)
        finally:
            self._in_flight -= 1
            if self._in_flight < self.settings.max_in_flight:
                self._room.set()

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
        message = Message(**{**_fields(template), "delivery_id": claim.id})
        async with endpoint.limit:
            return await channel.send(message, endpoint.config)

    def _settle(self, claim: Claimed, result: DeliveryResult, template: Message | None) -> None:
        now = datetime.now(UTC)
        if isinstance(result, Delivered):
            received = template.record.get("received_at_epoch") if template else None
            latency = (now.timestamp() - received) * 1000 if received else None
            outcome = Outcome(claim.id, claim.endpoint_id, "delivered", latency_ms=latency, at=now)
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
        self._outcomes.append(outcome)
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
        if any(o.state == "pending" for o in outcomes):
            self.wake()


def _fields(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in Message.__slots__}
