"""Waiting for something that happens in another task, thread or process: the one helper.

``until`` is for async tests; its condition may be a plain function or a coroutine function
(an HTTP call through the in-process app, a store read). ``until_blocking`` is the same for
plain tests and for threads. Both poll every 50 ms and fail the test with ``what`` when the
condition is not true in time; neither ever asserts that something did *not* happen.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.05


async def until(
    condition: Callable[[], object | Awaitable[object]],
    seconds: float = 15,
    what: str = "not in time",
) -> None:
    """Poll ``condition`` until it is true; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(what)
        await asyncio.sleep(POLL_SECONDS)


def until_blocking(
    condition: Callable[[], object], seconds: float = 15, what: str = "not in time"
) -> None:
    """``until`` for code that is not async (sync tests, threads, subprocess checks)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(what)
        time.sleep(POLL_SECONDS)
