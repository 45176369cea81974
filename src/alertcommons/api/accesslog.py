"""The access log: one line per HTTP request, written when its response ends (for a live
stream, when the client leaves): method, path (the query with credentials masked), status,
duration, the client's address and a request id.

The request id is the client's ``X-Request-ID`` when it is a short plain token (a reverse
proxy's id joins the two logs), else a new one; either way it is sent back in the response's
``X-Request-ID``. Headers are never logged: ``Authorization`` and ``Cookie`` carry secrets.

``request_id`` and ``log_request`` are also used by the feed's fast path (api/feedpath.py), which
answers before this middleware is reached: its line is the same.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import threading
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alertcommons.logs import ACCESS, redact, redact_query

log = logging.getLogger(ACCESS)
REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` if it is a short plain token, else a new one."""
    given = b""
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            given = value  # the last one, as dict() of the headers kept
    return new_or_given(given)


def new_or_given(given: bytes) -> str:
    """``given`` (an ``X-Request-ID``, or b"") if it is a short plain token, else a new id."""
    if given and REQUEST_ID.fullmatch(given):
        return given.decode()
    # An id names a line; it guards nothing (a client may choose its own), so it need not come
    # from the system's random source: a read of that per request cost more than the id's use.
    return f"{random.getrandbits(64):016x}"


def log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    """The request's line; ``started`` is its ``time.perf_counter()`` at arrival."""
    if not log.isEnabledFor(logging.INFO):
        return
    raw_query = scope.get("query_string")
    query = redact_query(raw_query.decode("latin-1")) if raw_query else ""
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": redact(scope["path"]) + (f"?{query}" if query else ""),
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "remote": client[0] if client else "-",
        "request_id": request_id,
    }
    # As log.info("", extra=…) does, less its walk up the stack for the caller's line (no
    # format of ours prints it) and less what every record works out again (see _record).
    log.handle(_record(fields))


def _template() -> dict[str, Any]:
    record = logging.LogRecord(ACCESS, logging.INFO, __file__, 0, "", (), None, "log_request")
    return dict(record.__dict__)


# What every access record holds alike: its logger, level and place in the code, the process
# (made again in a forked child). A LogRecord works these out for each record — the file's
# base name and module, the process, its name — which was near half a record's cost.
_same = _template()
os.register_at_fork(after_in_child=lambda: globals().update(_same=_template()))


def _record(fields: dict[str, Any]) -> logging.LogRecord:
    """A record with every attribute ``LogRecord`` gives one, as it would give them."""
    same = _same
    record: logging.LogRecord = logging.LogRecord.__new__(logging.LogRecord)
    record.__dict__.update(same)
    now = time.time()
    record.created = now
    record.msecs = int((now - int(now)) * 1000) + 0.0
    record.relativeCreated = same["relativeCreated"] + (now - same["created"]) * 1000
    if same["thread"] is not None:  # logging.logThreads
        record.thread = threading.get_ident()
        record.threadName = threading.current_thread().name
    if same.get("taskName", 0) is None and getattr(logging, "logAsyncioTasks", False):
        record.taskName = _task_name()  # Python 3.12 and later
    record.fields = fields
    return record


def _task_name() -> str | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop in this thread
        return None
    return task.get_name() if task is not None else None


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        status = 500  # unless a response starts: an exception escaped every handler

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_request(scope, status, started, rid)
