"""Connecting to the cluster's NATS server: how a hub node's live bus and a dispatch worker's
wake-up both do it.

The client reconnects by itself once it was connected. Before that, a server that is not up
yet (the usual order at a cluster's start) is tried again every 2 s, with a warning each time:
neither user of NATS needs it to work (the database carries live events, the poll finds
deliveries), so nothing waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("alertcommons.nats")

RETRY_SECONDS = 2.0


async def connect_until_up(
    url: str,
    *,
    name: str,
    disconnected: Callable[[], Awaitable[None]],
    reconnected: Callable[[], Awaitable[None]],
    ready: Callable[[Any], Awaitable[None]],
) -> Any:
    """A client connected to ``url`` on which ``ready(client)`` (subscribing) succeeded;
    until both do, tried again every ``RETRY_SECONDS``. A client that failed or was
    cancelled half-way is closed, never left behind."""
    import nats

    async def error(exc: Exception) -> None:
        log.debug("NATS: %s", exc)

    while True:
        client: Any = None
        try:
            client = await nats.connect(
                url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                connect_timeout=2,
                allow_reconnect=True,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
            await ready(client)
            return client
        except asyncio.CancelledError:
            await _close(client)
            raise
        except Exception as exc:  # not up yet: the caller's fallback carries on meanwhile
            log.warning("NATS not reachable (%s): retrying in %g s", exc, RETRY_SECONDS)
            await _close(client)
            await asyncio.sleep(RETRY_SECONDS)


async def _close(client: Any) -> None:
    if client is not None:
        with contextlib.suppress(Exception):
            await client.close()
