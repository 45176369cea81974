"""Waiting for something that happens in another task, thread or process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], seconds: float = 10) -> None:
    """Poll ``condition`` every 50 ms; fail the test if it is not true within ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not in time")


def wait_until(condition: Callable[[], object], seconds: float = 10) -> None:
    """The same as :func:`until` for synchronous tests (a hub process, threads)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("not in time")
        time.sleep(0.05)
