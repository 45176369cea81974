"""/api/v1/stream: Server-Sent Events of new alerts, filtered, resumable with Last-Event-ID.

Query: ``area``, ``jma_area``, ``category``, ``event``, ``status``, ``language`` (repeatable),
``min_urgency``, ``min_severity``, ``min_certainty``, ``heartbeat`` (seconds, default 15),
``last_event_id`` (or the ``Last-Event-ID`` header).

A stream costs the hub little, and no client can make it cost more: the number of clients is
capped (``max_stream_clients``), a client that takes no chunk for ``send_timeout_seconds`` is
dropped (it resumes with ``Last-Event-ID``), and a resumption replays at most
``BACKLOG_LIMIT`` alerts of the last ``BACKLOG_WINDOW`` seconds, matched from a cache shared by
every client and computed by at most two requests at a time.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from alertcommons.cap import from_json
from alertcommons.delivery.filters import FilterError, parse_filter
from alertcommons.delivery.matching import AlertFacts, Matcher, facts_of
from alertcommons.delivery.stream import CLOSE, Subscriber, Unfinished, close_event, sse_event
from alertcommons.hub.services import Services
from alertcommons.problems import ServiceUnavailable, Unprocessable
from alertcommons.store import alerts as alert_queries
from alertcommons.store.ids import floor_id, is_id
from alertcommons.store.records import alert_records
from alertcommons.store.schema import alerts

from .errors import problem_response

BACKLOG_LIMIT = 500
BACKLOG_WINDOW = 24 * 3600.0  # older alerts: the Atom feeds and /api/v1/alerts
FACTS_CACHE = 2000


STREAM_PATH = "/api/v1/stream"
_SERVER_SEND = "alertcommons.server_send"


class ServerSendForStreams:
    """The outermost middleware: hands a live stream the server's own ``send`` for its body
    chunks. The response start still goes through every middleware (the access log sees the
    status, X-Request-ID is added); the chunks that follow, one per event per client, skip a
    chain of wrappers that only look at the start (four awaits per chunk, half a stream's CPU
    in the profile)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STREAM_PATH:
            extensions = {**(scope.get("extensions") or {}), _SERVER_SEND: send}
            scope = {**scope, "extensions": extensions}
        await self.app(scope, receive, send)


class StreamApp:
    """The SSE endpoint as a bare ASGI app: one queue and one waiting task per client, none of
    a framework response's per-chunk machinery — ten thousand clients are the design case."""

    def __init__(self) -> None:
        self._facts: OrderedDict[str, tuple[AlertFacts, dict[str, Any]]] = OrderedDict()
        self._backlogs = asyncio.Semaphore(2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        hub = request.app.state.services
        settings = hub.settings
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            document, heartbeat = _filter_document(params)
            stream_filter, canonical = parse_filter(document)
        except (FilterError, ValueError) as exc:
            key = exc.key if isinstance(exc, FilterError) else "heartbeat"
            await problem_response(Unprocessable(str(exc), path=key), request)(scope, receive, send)
            return
        try:
            resume_from = _resume_point(request.headers.get("last-event-id"), params)
        except ValueError as exc:
            key = "last_event_id"
            problem: Unprocessable | ServiceUnavailable = Unprocessable(str(exc), path=key)
            await problem_response(problem, request)(scope, receive, send)
            return
        if len(hub.broadcaster) >= settings.max_stream_clients:
            problem = ServiceUnavailable("too many live-stream clients; try again shortly")
            response = problem_response(problem, request)
            response.headers["Retry-After"] = "5"
            await response(scope, receive, send)
            return
        key = json.dumps(canonical, sort_keys=True)
        limit = settings.send_timeout_seconds
        subscriber = hub.broadcaster.subscribe(key, stream_filter, heartbeat, limit)
        subscriber.task = asyncio.current_task()
        gone = asyncio.ensure_future(_disconnected(receive, subscriber))
        server_send = (scope.get("extensions") or {}).get(_SERVER_SEND)
        send_body: Send = server_send or send
        # The publisher writes to an idle stream itself with the server's own send, a
        # coroutine function it can start eagerly; never through the middleware's wrappers.
        direct = server_send is not None and inspect.iscoroutinefunction(server_send)

        async def write(body: bytes) -> None:
            # A client that takes nothing for ``limit`` seconds is gone or hostile: the
            # broadcaster's sweep sees this write still open then, and drops the client. No
            # timer per write: making and cancelling one per client per event cost more than
            # the write.
            subscriber.writing_since = time.monotonic()
            await send_body({"type": "http.response.body", "body": body, "more_body": True})
            subscriber.writing_since = 0.0

        try:
            subscriber.writing_since = time.monotonic()
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            await write(b"retry: 2000\n\n")
            sent = subscriber.sent
            if resume_from:
                matcher = Matcher([(key, stream_filter)])
                for alert_id, record in await self._backlog(hub, resume_from, matcher):
                    sent.add(alert_id)
                    await write(sse_event(alert_id, record))
            queue = subscriber.queue
            if direct:
                subscriber.send = server_send
            while True:
                # Nothing queued: the publisher writes the next events itself (write_now).
                subscriber.idle = direct and queue.empty()
                items = [await queue.get()]
                subscriber.idle = False
                while not queue.empty():
                    items.append(queue.get_nowait())
                if subscriber.ended or CLOSE in items:
                    break  # a client dropped for slowness resumes with Last-Event-ID
                # Everything queued meanwhile goes out in one write: a burst of alerts costs
                # this client one wake-up and one write, not one per alert.
                chunks: list[bytes] = []
                for item in items:
                    if isinstance(item, Unfinished):  # a write the publisher began
                        subscriber.writing_since = time.monotonic()
                        await item
                        subscriber.writing_since = 0.0
                    elif not (sent and _already(item, sent)):
                        chunks.append(item)
                if chunks:
                    await write(b"".join(chunks))
            # The stream ends (hub stopping, client too slow, client gone): say why, as an
            # event clients can listen for, and finish the response properly.
            if subscriber.reason:
                await write(close_event(subscriber.reason))
            subscriber.writing_since = time.monotonic()
            await send_body({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away mid-write
        except asyncio.CancelledError:
            if not subscriber.stalled:
                raise
            if subscriber.task is not None:
                subscriber.task.uncancel()  # the sweep's drop, not a cancellation from above
        finally:
            hub.broadcaster.unsubscribe(subscriber)
            gone.cancel()

    async def _backlog(
        self, hub: Services, resume_from: str, matcher: Matcher
    ) -> list[tuple[str, dict[str, Any]]]:
        after = max(resume_from, floor_id(time.time() - BACKLOG_WINDOW))
        async with self._backlogs:
            known = dict(self._facts)
            found: list[tuple[str, dict[str, Any]]]
            found, fresh = await hub.store.read(lambda c: _backlog(c, after, matcher, known))
        for alert_id, entry in fresh.items():
            self._facts[alert_id] = entry
        while len(self._facts) > FACTS_CACHE:
            self._facts.popitem(last=False)
        return found


def _resume_point(header: str | None, params: dict[str, list[str]]) -> str | None:
    """Where to resume: a malformed query value is the caller's error; a malformed header
    (some clients echo whatever id they saw) starts the stream live instead."""
    asked = _one(params, "last_event_id")
    if asked:
        if not is_id(asked):
            raise ValueError("last_event_id is not an event id of this hub")
        return asked
    if header and is_id(header.strip()):
        return header.strip()
    return None


def _already(chunk: bytes, sent: set[str]) -> bool:
    """An alert event the backlog has just sent this client."""
    return chunk.startswith(b"id: ") and chunk[4 : chunk.index(b"\n")].decode() in sent


async def _disconnected(receive: Receive, subscriber: Subscriber) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscriber.end(None)  # gone: nobody to tell why


_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_LISTS = {
    "area": "areas",
    "jma_area": "jma_areas",
    "category": "categories",
    "event": "events",
    "status": "statuses",
    "language": "languages",
}


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _filter_document(params: dict[str, list[str]]) -> tuple[dict[str, Any], float]:
    document: dict[str, Any] = {}
    for name, key in _LISTS.items():
        if params.get(name):
            document[key] = params[name]
    for name in ("min_urgency", "min_severity", "min_certainty"):
        value = _one(params, name)
        if value:
            document[name] = value
    heartbeat = float(_one(params, "heartbeat") or 15)
    if not 1 <= heartbeat <= 300:
        raise ValueError("heartbeat is between 1 and 300 seconds")
    return document, heartbeat


def _backlog(
    connection: Connection,
    after: str,
    matcher: Matcher,
    known: dict[str, tuple[AlertFacts, dict[str, Any]]],
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, tuple[AlertFacts, dict[str, Any]]]]:
    """Matching alerts after ``after``, and the facts and records newly computed for them."""
    query = (
        select(alerts)
        .where(alerts.c.id > after, alerts.c.scope == "Public")
        .order_by(alerts.c.id)
        .limit(BACKLOG_LIMIT)
    )
    rows = list(connection.execute(query))
    missing = [row for row in rows if row.id not in known]
    fresh: dict[str, tuple[AlertFacts, dict[str, Any]]] = {}
    for record, row in zip(alert_records(connection, missing), missing, strict=True):
        fresh[row.id] = (facts_of(from_json(json.loads(row.cap_json))), record)
    follow_ups = [row.id for row in rows if row.msg_type in ("Update", "Cancel")]
    earlier = alert_queries.referenced_rows(connection, follow_ups)
    found: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        facts, record = known.get(row.id) or fresh[row.id]
        # An update or lift reaches whoever the alerts it replaces reached.
        previous = (facts_of(from_json(json.loads(r.cap_json))) for r in earlier.get(row.id, []))
        if matcher.match(facts) or any(matcher.match(p) for p in previous):
            found.append((row.id, record))
    return found, fresh
