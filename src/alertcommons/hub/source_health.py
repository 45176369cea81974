"""What an operator sees of each source the hub reads — a CAP feed, a folder, a JMA feed —
in one shape, kept in the database (``store/feed_sources.py``) so it survives a restart and
every node of a cluster shows the same.

The health is saved when something an operator reads changed, or every half minute, never on
every quiet poll: a hub polling twenty feeds each minute does not write twenty rows a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alertcommons.store import feed_sources
from alertcommons.store.engine import Store

log = logging.getLogger("alertcommons.sources")

MAX_WARNINGS = 20
SAVE_EVERY_SECONDS = 30.0


@dataclass
class SourceHealth:
    """What an operator needs to see of one source."""

    last_fetch_at: str | None = None
    last_duration_ms: float | None = None
    last_result: str | None = None  # ok | not-modified | error
    last_error: str | None = None
    last_success_at: str | None = None
    failures: int = 0
    fetches: int = 0
    published: int = 0
    duplicates: int = 0
    refused: int = 0
    without_areas: int = 0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> SourceHealth:
        health = cls()
        for name, default in vars(cls()).items():
            value = saved.get(name, default)
            if isinstance(value, type(default)) or (default is None and value is not None):
                setattr(health, name, value)
        health.warnings = [str(w) for w in health.warnings][-MAX_WARNINGS:]
        return health

    def snapshot(self) -> tuple[Any, ...]:
        """What an operator reads, without what changes on every poll."""
        quiet = ("last_fetch_at", "last_duration_ms", "fetches", "last_success_at")
        return tuple(
            v if not isinstance(v, list) else tuple(v)
            for k, v in vars(self).items()
            if k not in quiet
        )

    def warn(self, text: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self.warnings.append(f"{stamp} {text[:300]}")
        del self.warnings[:-MAX_WARNINGS]

    def began(self) -> float:
        """A fetch starts: count it; the monotonic start, for :meth:`ended`."""
        self.fetches += 1
        self.last_fetch_at = datetime.now(UTC).isoformat(timespec="seconds")
        return time.monotonic()

    def ended(self, started: float, result: str, error: str | None = None) -> None:
        self.last_duration_ms = round((time.monotonic() - started) * 1000, 1)
        self.last_result = result
        self.last_error = error
        if result == "error":
            self.failures += 1
            self.warn(f"feed refused: {error}")
        else:
            self.failures = 0
            self.last_success_at = self.last_fetch_at

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "warnings": list(self.warnings)}


class HealthKeeper:
    """Saves one source's health when it changed (or every half minute)."""

    def __init__(self, store: Store, name: str, kind: str) -> None:
        self.store, self.name, self.kind = store, name, kind
        self.saved: tuple[Any, ...] = ()
        self.saved_at = 0.0

    def restored(self, health: SourceHealth) -> None:
        self.saved = health.snapshot()

    async def save(self, health: SourceHealth) -> None:
        snapshot = health.snapshot()
        now = time.monotonic()
        if snapshot == self.saved and now - self.saved_at < SAVE_EVERY_SECONDS:
            return
        record = health.to_dict()
        try:
            await self.store.write(lambda c: feed_sources.save(c, self.name, self.kind, record))
        except Exception as exc:
            log.warning("source %s: health not saved: %s", self.name, exc)
            return
        self.saved, self.saved_at = snapshot, now


async def saved_health(store: Store, kind: str) -> dict[str, SourceHealth]:
    """Each source's health as the database kept it; nothing when it cannot be read."""
    try:
        saved = await store.read(lambda c: feed_sources.load(c, kind))
    except Exception as exc:  # never a reason not to read the sources
        log.warning("%s sources' saved health unreadable: %s", kind, exc)
        return {}
    return {name: SourceHealth.from_saved(health) for name, health in saved.items()}


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` if the current task was asked to stop.

    On Python 3.11 ``asyncio.wait_for`` and ``asyncio.timeout`` can swallow a cancellation that
    arrives just as the awaited read completes or times out (fixed in 3.12); a poller that
    caught the ``TimeoutError`` would then sleep on, and a hub stopping would wait for it
    forever. Pollers call this before they sleep.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
