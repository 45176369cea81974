"""Everything a running hub holds, built by ``alertcommons.app.build_services``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alertcommons.auth.principal import Principal
from alertcommons.delivery.dispatcher import Dispatcher
from alertcommons.delivery.outbox import DeliveryOutbox
from alertcommons.delivery.stream import Broadcaster
from alertcommons.hub.livebus import LiveBus
from alertcommons.hub.metrics import Metrics
from alertcommons.hub.publish import Publisher
from alertcommons.hub.rendered import RenderedCache
from alertcommons.hub.signer import HubKey
from alertcommons.settings import Settings
from alertcommons.store.engine import Store

if TYPE_CHECKING:  # the ingest needs the publisher, which the services hold
    from alertcommons.hub.cap_ingest import CapIngest
    from alertcommons.hub.jma_ingest import JMAIngest

PRINCIPAL_TTL_SECONDS = 5.0


@dataclass
class PrincipalCache:
    """Token hash → caller, for a few seconds: most requests then need no database read.

    Revocation through this node clears the cache at once; on other nodes sharing the
    database a revoked token (or an organization's new jurisdiction, sender or two-person
    approval rule) takes effect within ``PRINCIPAL_TTL_SECONDS``. A lookup that began before
    a clear is not kept (``generation``): it may have read what the clear was for.
    """

    ttl: float = PRINCIPAL_TTL_SECONDS
    generation: int = 0
    _entries: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(token_hash, None)
            return None
        return entry[1]

    def put(self, token_hash: str, principal: Principal, generation: int) -> None:
        """Keep ``principal``, read when the cache was at ``generation``, unless cleared since."""
        if generation != self.generation:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


@dataclass
class Services:
    settings: Settings
    store: Store
    key: HubKey
    publisher: Publisher
    outbox: DeliveryOutbox
    dispatcher: Dispatcher
    broadcaster: Broadcaster
    rendered: RenderedCache  # Atom feeds and public pages, dropped on every publish
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    jma: JMAIngest | None = None  # the JMA feed ingest, when a feed URL is set
    cap_sources: CapIngest | None = None  # other CAP feeds read in, when configured
    livebus: LiveBus | None = None  # live events across nodes (PostgreSQL or NATS)
    metrics: Metrics = field(default_factory=Metrics)

    def live_events(self) -> str:
        """How live events reach this node: ``local`` (one node: every alert is published
        through it), ``nats``, or ``database`` (NATS down or not configured)."""
        if self.store.dialect == "sqlite" and not self.settings.nats_url:
            return "local"
        return "nats" if self.livebus is not None and self.livebus.connected else "database"
