"""/api/v1/stream: Server-Sent Events of new alerts, filtered, resumable with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection, select

from alertcommons.cap import from_json
from alertcommons.delivery.filters import FilterError, parse_filter
from alertcommons.delivery.matching import Matcher, facts_of
from alertcommons.delivery.stream import HEARTBEAT, sse_event
from alertcommons.hub.records import alert_record
from alertcommons.problems import Unprocessable
from alertcommons.store import alerts as alert_queries
from alertcommons.store.schema import alerts

from .deps import ServicesDep

router = APIRouter(tags=["stream"])
BACKLOG_LIMIT = 1000


@router.get(
    "/api/v1/stream",
    summary="Live alerts as Server-Sent Events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    hub: ServicesDep,
    area: Annotated[list[str] | None, Query(description="local-government codes")] = None,
    jma_area: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query()] = None,
    event: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query(description="default: Actual")] = None,
    language: Annotated[list[str] | None, Query()] = None,
    min_urgency: str | None = None,
    min_severity: str | None = None,
    min_certainty: str | None = None,
    heartbeat: Annotated[float, Query(ge=1, le=300, description="seconds")] = 15.0,
    last_event_id: Annotated[str | None, Query(description="or the Last-Event-ID header")] = None,
) -> StreamingResponse:
    document: dict[str, Any] = {
        key: value
        for key, value in {
            "areas": area, "jma_areas": jma_area, "categories": category, "events": event,
            "statuses": status, "languages": language, "min_urgency": min_urgency,
            "min_severity": min_severity, "min_certainty": min_certainty,
        }.items()
        if value
    }  # fmt: skip
    try:
        stream_filter, canonical = parse_filter(document)
    except FilterError as exc:
        raise Unprocessable(str(exc), path=exc.key) from None
    key = json.dumps(canonical, sort_keys=True)
    resume_from = request.headers.get("last-event-id") or last_event_id
    broadcaster = hub.broadcaster
    subscriber = broadcaster.subscribe(key, stream_filter)  # before the backlog: miss nothing

    async def events() -> AsyncIterator[bytes]:
        sent: set[str] = set()
        try:
            yield b"retry: 2000\n\n"
            if resume_from:
                matcher = Matcher([(key, stream_filter)])
                backlog = await hub.store.read(lambda c: _backlog(c, resume_from, matcher))
                for alert_id, record in backlog:
                    sent.add(alert_id)
                    yield sse_event(alert_id, record)
            while not subscriber.dropped:
                try:
                    chunk = await asyncio.wait_for(subscriber.queue.get(), heartbeat)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                if chunk.startswith(b"id: ") and chunk[4 : chunk.index(b"\n")].decode() in sent:
                    continue
                yield chunk
        finally:
            broadcaster.unsubscribe(subscriber)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _backlog(
    connection: Connection, after: str, matcher: Matcher
) -> list[tuple[str, dict[str, Any]]]:
    query = (
        select(alerts)
        .where(alerts.c.id > after, alerts.c.scope == "Public")
        .order_by(alerts.c.id)
        .limit(BACKLOG_LIMIT)
    )
    out = []
    for row in connection.execute(query):
        if not matcher.match(facts_of(from_json(json.loads(row.cap_json)))):
            continue
        record = alert_record(
            row,
            areas=alert_queries.area_codes_of(connection, row.id),
            references=alert_queries.references_of(connection, row.id),
            referenced_by=[],
        )
        out.append((row.id, record))
    return out
