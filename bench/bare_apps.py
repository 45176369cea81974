"""The bare implementations our figures are measured against, as ASGI apps on the same server
(uvicorn, uvloop + httptools) the hub runs on. Nothing here is the hub's code.

* ``sse``: one queue per client, watching ``http.disconnect``; ``POST /publish`` puts the
  request's body on every queue (what a hand-written SSE fan-out costs).
* ``fixed``: answers every GET with the bytes of the file named by ``BARE_BODY_FILE`` and the
  content type ``BARE_CONTENT_TYPE`` (what serving the Atom feed's bytes costs).

Run: ``python -m uvicorn bench.bare_apps:sse --port P`` (or ``bench.bare_apps:fixed``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

Scope = dict[str, Any]

_queues: set[asyncio.Queue[bytes]] = set()


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def sse(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        event = await _body(receive)
        for queue in list(_queues):
            queue.put_nowait(event)
        await _answer(send, 200, str(len(_queues)).encode(), b"text/plain")
        return
    if scope["path"] == "/count":
        await _answer(send, 200, str(len(_queues)).encode(), b"text/plain")
        return
    queue: asyncio.Queue[bytes] = asyncio.Queue(256)
    _queues.add(queue)

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        queue.put_nowait(b"")

    watcher = asyncio.ensure_future(gone())
    try:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"retry: 2000\n\n", "more_body": True})
        while chunk := await queue.get():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:
        pass
    finally:
        _queues.discard(queue)
        watcher.cancel()


_FIXED = (
    Path(os.environ["BARE_BODY_FILE"]).read_bytes() if "BARE_BODY_FILE" in os.environ else b"",
    os.environ.get("BARE_CONTENT_TYPE", "application/octet-stream").encode(),
)


async def fixed(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _answer(send, 200, *_FIXED)
