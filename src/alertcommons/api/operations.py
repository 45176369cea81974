"""What an operator's probes and scrapers ask: ``/livez`` (the process answers), ``/readyz``
(it can serve: the database answers, and NATS when one is configured), ``/metrics``
(Prometheus text format, see ``hub/metrics.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from alertcommons.hub.metrics import queue_figures

from .deps import ServicesDep
from .errors import PROBLEM_JSON

router = APIRouter(tags=["operations"])


@router.get("/livez", summary="The process answers")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve: the database answers (and NATS, if configured)")
async def readyz(hub: ServicesDep) -> Any:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(hub.store.read(lambda c: c.execute(text("SELECT 1"))), 2.0)
        checks["database"] = "ok"
    except Exception as exc:  # any failure: not ready, and say why
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if hub.settings.nats_url:
        checks["nats"] = "ok" if hub.live_events() == "nats" else "unreachable"
    if all(value == "ok" for value in checks.values()):
        return {"status": "ready", "checks": checks}
    body = {
        "type": "https://alertcommons.org/problems/not-ready",
        "title": "Not ready",
        "status": 503,
        "detail": "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
        "checks": checks,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)


@router.get("/metrics", summary="Prometheus metrics of this process")
async def metrics(hub: ServicesDep) -> Response:
    queue = await hub.store.read(queue_figures)
    hub.metrics.watch(queue, len(hub.broadcaster), hub.live_events())
    return Response(hub.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
