"""Thread pools for blocking work, one per kind of peer, so one slow peer cannot starve another.

asyncio's default executor is one small pool (cores + 4 threads: 6 here). Email, MQTT,
password hashing and JMA fetches all used it, so two email endpoints on an SMTP server that
answered one byte every five seconds held every thread, and a console sign-in waited 67 s
for a scrypt check. Each kind now has its own pool, sized for what it waits on; a kind can
only exhaust its own threads.

The pools are process resources, like the default executor they replace: made on first use
(never at import), shared by every hub in the process, their idle threads joined at exit.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, ParamSpec, TypeVar

Kind = Literal["smtp", "mqtt", "passwords", "fetch", "speech", "imports"]

# Network waits (SMTP, MQTT, fetches) cost a thread and no CPU, so those pools are wider;
# scrypt is CPU and 16 MiB of memory per check, so a few threads are all the box can use.
# Speech synthesis is CPU for a second or so per announcement: two at a time.
# Reading an imported file of districts or shelters is CPU (shapely, boundary look-ups): two.
SIZES: dict[Kind, int] = {
    "smtp": 16,
    "mqtt": 8,
    "passwords": 4,
    "fetch": 4,
    "speech": 2,
    "imports": 2,
}

_pools: dict[Kind, ThreadPoolExecutor] = {}
_lock = threading.Lock()

P = ParamSpec("P")
T = TypeVar("T")


def pool(kind: Kind) -> ThreadPoolExecutor:
    with _lock:
        executor = _pools.get(kind)
        if executor is None:
            executor = ThreadPoolExecutor(SIZES[kind], thread_name_prefix=f"alertcommons-{kind}")
            _pools[kind] = executor
        return executor


async def run(kind: Kind, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on the pool for ``kind``, awaited from the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(kind), functools.partial(fn, *args, **kwargs))
