"""Everything a running hub holds, built by ``create_app`` and closed with it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from alertcommons.auth.principal import Principal
from alertcommons.delivery.dispatcher import Dispatcher
from alertcommons.delivery.outbox import DeliveryOutbox
from alertcommons.delivery.stream import Broadcaster
from alertcommons.hub.publish import Publisher
from alertcommons.hub.rendered import RenderedCache
from alertcommons.hub.signer import HubKey
from alertcommons.settings import Settings
from alertcommons.store.engine import Store

PRINCIPAL_TTL_SECONDS = 5.0


@dataclass
class PrincipalCache:
    """Token hash → caller, for a few seconds: most requests then need no database read.

    Revocation through this node clears the cache at once; on other nodes sharing the
    database a revoked token stops working within ``PRINCIPAL_TTL_SECONDS``.
    """

    ttl: float = PRINCIPAL_TTL_SECONDS
    _entries: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(token_hash, None)
            return None
        return entry[1]

    def put(self, token_hash: str, principal: Principal) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
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
    jma: Any = None  # the JMA feed ingest, when a feed URL is set
    cap_sources: Any = None  # other CAP feeds read in (hub/cap_ingest.py), when configured
