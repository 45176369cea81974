"""Documents rendered from the alerts in force — Atom feeds, public pages — kept briefly.

Every publish on this node drops them all at once (``changed``); otherwise an entry lives at
most ``FRESH_SECONDS``, which bounds how late another hub node's alerts show. Each carries an
ETag, so an unchanged document can be answered ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

FRESH_SECONDS = 1.0
MAX_ENTRIES = 500


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    version: int
    at: float


class RenderedCache:
    def __init__(self) -> None:
        self.version = 0
        self._entries: dict[str, Rendered] = {}

    def changed(self) -> None:
        self.version += 1

    def get(self, key: str) -> Rendered | None:
        found = self._entries.get(key)
        if found is None or found.version != self.version:
            return None
        if time.monotonic() - found.at > FRESH_SECONDS:
            return None
        return found

    def put(self, key: str, body: bytes, version: int | None = None) -> Rendered:
        """Keep ``body``, rendered from what was in force at ``version`` (read before the
        render began). A publish during the render moved the version on: the entry is then
        answered this once but never found by ``get``, so no request after the publish is
        served the document from before it."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        at_version = self.version if version is None else version
        rendered = Rendered(body, etag, at_version, time.monotonic())
        if len(self._entries) > MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = rendered
        return rendered
