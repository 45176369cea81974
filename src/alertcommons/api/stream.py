"""/api/v1/stream: Server-Sent Events of new alerts, filtered, resumable with Last-Event-ID.

Query: ``area``, ``jma_area``, ``category``, ``event``, ``status``, ``language`` (repeatable),
``min_urgency``, ``min_severity``, ``min_certainty``, ``heartbeat`` (seconds, default 15),
``last_event_id`` (or the ``Last-Event-ID`` header).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from alertcommons.cap import from_json
from alertcommons.delivery.filters import FilterError, parse_filter
from alertcommons.delivery.matching import Matcher, facts_of
from alertcommons.delivery.stream import CLOSE, Subscriber, sse_event
from alertcommons.hub.records import alert_records
from alertcommons.problems import Unprocessable
from alertcommons.store.schema import alerts

from .errors import problem_response

BACKLOG_LIMIT = 1000


class StreamApp:
    """The SSE endpoint as a bare ASGI app: one queue and one waiting task per client, none of
    a framework response's per-chunk machinery — ten thousand clients are the design case."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        hub = request.app.state.services
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            document, heartbeat = _filter_document(params)
            stream_filter, canonical = parse_filter(document)
        except (FilterError, ValueError) as exc:
            key = exc.key if isinstance(exc, FilterError) else "heartbeat"
            problem = Unprocessable(str(exc), path=key)
            await problem_response(problem, request)(scope, receive, send)
            return
        resume_from = request.headers.get("last-event-id") or _one(params, "last_event_id")
        key = json.dumps(canonical, sort_keys=True)
        subscriber = hub.broadcaster.subscribe(key, stream_filter, heartbeat)
        gone = asyncio.ensure_future(_disconnected(receive, subscriber))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            await send(
                {"type": "http.response.body", "body": b"retry: 2000\n\n", "more_body": True}
            )
            sent: set[str] = set()
            if resume_from:
                matcher = Matcher([(key, stream_filter)])
                backlog = await hub.store.read(lambda c: _backlog(c, resume_from, matcher))
                for alert_id, record in backlog:
                    sent.add(alert_id)
                    await send(
                        {
                            "type": "http.response.body",
                            "body": sse_event(alert_id, record),
                            "more_body": True,
                        }
                    )
            while True:
                chunk = await subscriber.queue.get()
                if chunk == CLOSE or subscriber.dropped:
                    break
                if sent and chunk.startswith(b"id: ") and _event_id(chunk) in sent:
                    continue
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            pass  # the client went away mid-write
        finally:
            hub.broadcaster.unsubscribe(subscriber)
            gone.cancel()


def _event_id(chunk: bytes) -> str:
    return chunk[4 : chunk.index(b"\n")].decode()


async def _disconnected(receive: Receive, subscriber: Subscriber) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscriber.queue.put_nowait(CLOSE)


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
    connection: Connection, after: str, matcher: Matcher
) -> list[tuple[str, dict[str, Any]]]:
    query = (
        select(alerts)
        .where(alerts.c.id > after, alerts.c.scope == "Public")
        .order_by(alerts.c.id)
        .limit(BACKLOG_LIMIT)
    )
    rows = [
        row
        for row in connection.execute(query)
        if matcher.match(facts_of(from_json(json.loads(row.cap_json))))
    ]
    return [(record["id"], record) for record in alert_records(connection, rows)]
