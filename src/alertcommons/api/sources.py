"""``/api/v1/feeds/sources``: the health of every source the hub reads, for operators.

The CAP sources (``hub/cap_ingest.py``) and the JMA feeds report in one list: last fetch, its
duration and result, the last error, warnings, and what became of the alerts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from .deps import AdminDep, ServicesDep

router = APIRouter(tags=["feeds"])


@router.get("/api/v1/feeds/sources", summary="Health of the CAP sources and JMA feeds read in")
async def feed_sources(hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    problems: list[str] = []
    if hub.cap_sources is not None:
        found.extend(hub.cap_sources.status())
        if hub.cap_sources.problem:
            problems.append(hub.cap_sources.problem)
    if hub.jma is not None:
        jma = hub.jma.status()
        if jma.get("problem"):
            problems.append(jma["problem"])
        for feed in jma["feeds"]:
            found.append(
                {
                    "name": f"jma:{feed['name']}",
                    "kind": "jma",
                    "url": feed["url"],
                    "last_result": "error" if feed["last_error"] else "ok",
                    "last_error": feed["last_error"],
                    "failures": feed["failing"],
                    "fetches": feed["polls"],
                    "seconds_since_fetch": feed["seconds_since_poll"],
                }
            )
    return {"sources": found, "problems": problems}
