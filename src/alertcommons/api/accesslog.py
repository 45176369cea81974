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

import logging
import re
import secrets
import time

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
    return given.decode() if REQUEST_ID.fullmatch(given) else secrets.token_hex(8)


def log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    """The request's line; ``started`` is its ``time.perf_counter()`` at arrival."""
    query = redact_query(scope.get("query_string", b"").decode("latin-1"))
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": redact(scope["path"]) + (f"?{query}" if query else ""),
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "remote": client[0] if client else "-",
        "request_id": request_id,
    }
    if log.isEnabledFor(logging.INFO):
        # As log.info("", extra=…) does, less its walk up the stack for the caller's line (no
        # format of ours prints it). The whole line is still near half a cached feed's CPU
        # (Python's logging and the formatter: see the feed's profile in bench/public_pages).
        extra = {"fields": fields}  # the plain form is key=value only
        log.handle(
            log.makeRecord(log.name, logging.INFO, __file__, 0, "", (), None, "log_request", extra)
        )


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
