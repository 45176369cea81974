"""Everything a running hub holds, built by ``create_app`` and closed with it."""

from __future__ import annotations

from dataclasses import dataclass

from alertcommons.hub.publish import Publisher
from alertcommons.hub.signer import HubKey
from alertcommons.settings import Settings
from alertcommons.store.engine import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    key: HubKey
    publisher: Publisher
