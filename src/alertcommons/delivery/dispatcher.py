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

A fresh alert need not wait for a claim: when the outbox writes its rows in this process (an
SQLite hub, where the publish runs on the dispatcher's own loop), it asks :meth:`lend` which of
them this dispatcher has room for, and writes those already claimed — ``sending``, leased,
first attempt — exactly as a claim would have, in the alert's own transaction. Only once that
commit succeeded does :meth:`handed_off` start their sends; if it failed, the rows do not
exist and the room lent is given back. A crash in between leaves leased rows that come back as
any claim's do. A site's routes are never lent: their first attempt also arms the next route,
which only the claim does (``store/failover.py``).
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
from typing import Any, cast

from sqlalchemy import Connection

from alertcommons.delivery.channels import Channel, ManySender, Outgoing
from alertcommons.delivery.message import Message
from alertcommons.delivery.policy import next_attempt
from alertcommons.delivery.result import Delivered, DeliveryResult, FailedForGood, RetryAfter
from alertcommons.store import deliveries as delivery_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.deliveries import Claimed, Outcome
from alertcommons.store.engine import Store
from alertcommons.store.records import alert_records

log = logging.getLogger("alertcommons.delivery")


WARM_ENDPOINTS = 20_000  # endpoints kept open ahead of the first alert; beyond, loaded on use
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
        # channels that take a batch of sends at once (delivery/channels: ManySender)
        self._many_senders: dict[str, ManySender] = {
            name: cast(ManySender, channel)
            for name, channel in channels.items()
            if callable(getattr(channel, "send_many", None))
        }
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
        self._loop: asyncio.AbstractEventLoop | None = None
        # rows lent to a publish not yet committed: alert id -> (lent at, its claims)
        self._lent: dict[str, tuple[float, list[Claimed]]] = {}
        self._turn_clock: datetime | None = None  # now, for the outcomes of one loop turn
        self.on_endpoint_disabled: list[Callable[[str], None]] = []
        self.on_outcome: list[Callable[[str, Outcome], None]] = []  # (channel, outcome)
        # run inside the idle read that warms the endpoint cache, after endpoints changed
        self.warmers: list[Callable[[Connection], object]] = []

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
        self._loop = asyncio.get_running_loop()
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
        try:
            for send in list(self._sends):
                send.cancel()
            await asyncio.gather(*self._sends, return_exceptions=True)
            for name, channel in self.channels.items():  # a send loop cancelled settles nothing
                try:
                    await channel.close()
                except Exception:
                    log.exception("channel %s did not close cleanly", name)
        finally:  # what was settled is written: not sent again when the leases run out
            await self._record()

    async def _run(self) -> None:
        failing = 0  # rounds failed in a row
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self._claim_round()
                if failing:
                    log.warning("dispatch rounds work again after %d failed", failing)
                    failing = 0
            except Exception as exc:  # never let one bad round stop delivery for everyone
                # The first failure with its traceback; while the database stays away, a line
                # every 60 rounds, not a traceback per round (several a second) burying the log.
                if failing == 0:
                    log.exception("dispatch round failed")
                elif failing % 60 == 0:
                    log.warning("dispatch rounds still failing (%d in a row): %s", failing, exc)
                failing += 1
                more = False
            if not more:
                if failing == 0 and not self._wake.is_set():
                    await self._warm()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)

    def _budget(self) -> tuple[int, int | None, dict[str, int]]:
        """How many rows there is room for, the least urgent priority that may use it (None:
        any), and the sends in flight per endpoint."""
        settings = self.settings
        free = settings.max_in_flight - self.in_flight
        if free > 0:
            return free, None, dict(self._busy)
        # the room is full: only the urgent reserve is left
        free = settings.max_in_flight + settings.urgent_reserve - self.in_flight
        return free, URGENT_PRIORITY, dict(self._busy)

    async def _claim_round(self) -> bool:
        """Claim what there is room for; True when more may be due right now."""
        settings = self.settings
        lease = timedelta(seconds=settings.lease_seconds)
        if self._lent:
            self._drop_stale_loans()
        # On SQLite the claim runs on this loop: the room is read as it runs, after any
        # publish in the same batch of writes was lent its share (``lend``).
        inline = self.store.inline
        budget = None if inline else self._budget()
        if (budget or self._budget())[0] <= 0:
            return False  # no room even in the reserve: a send that ends wakes this again
        exhausted_priority: list[int | None] = [None]

        def claim(connection: Connection) -> delivery_queries.ClaimRound:
            free, max_priority, busy = budget or self._budget()
            exhausted_priority[0] = max_priority
            if free <= 0:
                return delivery_queries.ClaimRound([], exhausted=True)
            full = [endpoint for endpoint, sends in busy.items() if sends >= settings.per_endpoint]
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
        return not claimed.exhausted and exhausted_priority[0] is None

    def lend(self, alert_id: str, rows: list[dict[str, Any]]) -> datetime | None:
        """Called by the outbox, in the publish transaction, with an alert's new delivery
        rows: marks those this dispatcher has room for (``state`` ``sending``, leased,
        ``attempts`` 1 — what a claim writes) and answers the lease's end (None: none taken).

        Only on this dispatcher's own loop (an SQLite hub: the outbox runs there), so the
        room counted here is the room the claim counts. What is lent counts as in flight at
        once; :meth:`handed_off` sends it after the commit, or gives the room back."""
        if self._loop is None or self._stopping:
            return None
        try:
            if asyncio.get_running_loop() is not self._loop:
                return None
        except RuntimeError:  # a writer thread (PostgreSQL): the claim takes these rows
            return None
        old = self._lent.pop(alert_id, None)
        if old is not None:  # the batch was written again, item by item: lend afresh
            self._give_back(old[1])
        settings = self.settings
        free, max_priority, busy = self._budget()
        lease_end = datetime.now(UTC) + timedelta(seconds=settings.lease_seconds)
        lent: list[Claimed] = []
        for row in rows:
            if free <= 0:
                break
            rank = row["priority"]
            if row.get("site_id") is not None or row["state"] != "pending":
                continue  # a site's route: the claim arms its next route
            if max_priority is not None and rank > max_priority:
                break  # every row of one alert has the same priority
            if self._wake.is_set() and rank > URGENT_PRIORITY:
                break  # rows already queued go first, in the claim's order
            endpoint_id = row["endpoint_id"]
            if busy.get(endpoint_id, 0) >= settings.per_endpoint:
                continue
            busy[endpoint_id] = busy.get(endpoint_id, 0) + 1
            free -= 1
            row["state"] = "sending"
            row["claimed_until"] = lease_end
            row["attempts"] = 1
            claim = Claimed(row["id"], alert_id, endpoint_id, 1, row["expires_at"], rank, None)
            lent.append(claim)
            self._in_flight[claim.id] = claim
            self._busy[endpoint_id] = self._busy.get(endpoint_id, 0) + 1
        if not lent:
            return None
        self._lent[alert_id] = (time.monotonic(), lent)
        return lease_end

    def forfeit(self, alert_id: str) -> None:
        """The publish was not stored (its transaction failed, or another writer stored the
        same alert first): the room lent to its deliveries comes back at once."""
        entry = self._lent.pop(alert_id, None)
        if entry is not None:
            self._give_back(entry[1])

    def handed_off(self, alert_id: str) -> int:
        """After the publish committed: send what :meth:`lend` marked; how many."""
        entry = self._lent.pop(alert_id, None)
        if entry is None:
            return 0
        lent_at, claims = entry
        if time.monotonic() - lent_at > self.settings.lease_seconds / 2 or self._stopping:
            self._give_back(claims)  # too late to trust the lease: it comes back as any does
            return 0
        self._keep(asyncio.ensure_future(self._start_lent(claims)))
        return len(claims)

    async def _start_lent(self, claims: list[Claimed]) -> None:
        try:
            await self._refresh_endpoints()
            await self._start(claims)
        except Exception:  # the leases bring them back
            log.exception("could not start %d handed-off deliveries", len(claims))
            self._give_back(claims)

    def _drop_stale_loans(self) -> None:
        """Loans whose publish never committed (it failed): give their room back."""
        limit = time.monotonic() - self.settings.lease_seconds / 2
        for alert_id, (lent_at, claims) in list(self._lent.items()):
            if lent_at < limit:
                del self._lent[alert_id]
                self._give_back(claims)

    def _give_back(self, claims: list[Claimed]) -> None:
        for claim in claims:
            if self._in_flight.pop(claim.id, None) is None:
                continue
            sends = self._busy.get(claim.endpoint_id, 1) - 1
            if sends > 0:
                self._busy[claim.endpoint_id] = sends
            else:
                self._busy.pop(claim.endpoint_id, None)
        self._wake.set()  # room opened

    async def _warm(self) -> None:
        """While idle, after any endpoint changed (on any node): open every active endpoint's
        settings and run the ``warmers`` (the outbox's matching index), so the first alert
        after a quiet spell does not pay for them — measured as the gap between the first
        alert to 1,000 webhooks and the next (bench/fanout.py, cold and warm). One small
        aggregate read per idle poll when nothing changed."""

        def load(connection: Connection) -> bool:
            version = endpoint_queries.version(connection)  # before the rows: never newer
            if version == self._endpoints_version:
                return False
            opened = endpoint_queries.active(connection, WARM_ENDPOINTS)
            self._endpoints = {
                endpoint_id: _Endpoint(row.id, row.channel, json.loads(row.config), True)
                for endpoint_id, row in opened.items()
            }
            self._endpoints_version = version
            for warmer in self.warmers:
                warmer(connection)
            return True

        try:
            await self.store.read(load)
        except Exception:  # only a head start: sends load what they need themselves
            log.debug("could not warm the endpoint cache", exc_info=True)

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
        for claim in claimed:
            self._in_flight[claim.id] = claim
            self._busy[claim.endpoint_id] = self._busy.get(claim.endpoint_id, 0) + 1
        try:
            await self._start(claimed)
        except BaseException:
            # Nothing was started (the read of their alerts or endpoints failed): counted in
            # flight, their leases would be renewed for ever and their room never come back.
            # Given back, the leases run out and the claim takes them again.
            self._give_back(claimed)
            raise

    async def _start(self, claimed: list[Claimed]) -> None:
        """Send claims already counted in flight."""
        missing_alerts = sorted({c.alert_id for c in claimed} - self._messages.keys())
        missing_endpoints = sorted({c.endpoint_id for c in claimed} - self._endpoints.keys())
        if missing_alerts or missing_endpoints:
            await self.store.read(lambda c: self._load(c, missing_alerts, missing_endpoints))
        batches: dict[str, list[Outgoing]] = {}
        for claim in claimed:
            endpoint = self._endpoints.get(claim.endpoint_id)
            template = self._messages.get(claim.alert_id)
            if (
                endpoint is not None
                and endpoint.active
                and template is not None
                and endpoint.channel in self._many_senders
            ):
                batch = batches.get(endpoint.channel)
                if batch is None:
                    batch = batches[endpoint.channel] = []
                outgoing = Outgoing(template, claim.id, endpoint.config, claim)
                outgoing.urgent = claim.priority <= URGENT_PRIORITY
                batch.append(outgoing)
                continue
            task = asyncio.create_task(self._send(claim, endpoint, template))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
        for name, batch in batches.items():
            self._send_many(name, batch)

    def _send_many(self, name: str, batch: list[Outgoing]) -> None:
        pending = {id(outgoing) for outgoing in batch}

        def finished(outgoing: Outgoing, result: DeliveryResult) -> None:
            if id(outgoing) not in pending:
                log.warning("channel %s finished a delivery twice or one not its own", name)
                return  # once only, whatever a channel does
            pending.discard(id(outgoing))
            elapsed = (time.perf_counter() - outgoing.started) * 1000 if outgoing.started else None
            try:
                self._settle(outgoing.token, result, None, elapsed)
            finally:  # its room and lease, whatever a listener of the outcome did
                self._sent(outgoing.token)

        try:
            self._many_senders[name].send_many(batch, finished)
        except Exception as exc:  # a channel bug must neither lose them nor hold their room
            log.exception("channel %s failed to start %d deliveries", name, len(pending))
            for outgoing in batch:
                finished(outgoing, RetryAfter(f"internal error: {exc!r}"))

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
            self._sent(claim)

    def _sent(self, claim: Claimed) -> None:
        """A send ended (its outcome settled): its room in flight is free."""
        self._in_flight.pop(claim.id, None)
        sends = self._busy.get(claim.endpoint_id, 1) - 1
        if sends > 0:
            self._busy[claim.endpoint_id] = sends
        else:
            self._busy.pop(claim.endpoint_id, None)
        # Room opened where rows may have been left pending: claim again. Once the room was
        # full, only when an eighth of a claim's worth is free: a claim per freed slot made a
        # sustained fan-out run hundreds of one-row claims. Urgent deliveries do not wait for
        # this: they have the reserve, and their publish wakes the claim itself.
        settings = self.settings
        room_opened = self.in_flight == settings.max_in_flight - self._refill
        if sends == settings.per_endpoint - 1 or room_opened:
            self._wake.set()

    @property
    def _refill(self) -> int:
        settings = self.settings
        return max(1, min(settings.claim_batch, settings.max_in_flight) // 8)

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
        now = self._clock()
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
            try:
                listener(endpoint.channel if endpoint else "unknown", outcome)
            except Exception:  # a metric or a summary must not keep the outcome unwritten
                log.exception("a listener failed on the outcome of delivery %s", claim.id)
        if not self._record_scheduled:
            self._record_scheduled = True
            asyncio.get_running_loop().call_soon(
                lambda: self._keep(asyncio.ensure_future(self._record()))
            )

    def _clock(self) -> datetime:
        """The time, read once per event-loop turn: the outcomes settled together share one
        value (the store converts a shared value once; each delivery's own latency is
        measured apart, in ``latency_ms``)."""
        now = self._turn_clock
        if now is None:
            now = self._turn_clock = datetime.now(UTC)
            asyncio.get_running_loop().call_soon(self._next_turn)
        return now

    def _next_turn(self) -> None:
        self._turn_clock = None

    def _keep(self, task: asyncio.Future[None]) -> None:
        self._sends.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._sends.discard)

    async def _record(self) -> None:
        """Write the outcomes settled so far, then those settled meanwhile, until none are
        left: one record transaction at a time, each taking all that waited for it. (One
        per loop turn, as sends ended, made a thousand-webhook fan-out write dozens of small
        transactions on the loop it sends from.)"""
        try:
            while self._outcomes or self._disable:
                await self._record_once()
        finally:
            self._record_scheduled = False

    async def _record_once(self) -> None:
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
