"""An alert in the forms other last-mile routes need: cell-broadcast text for carriers'
emergency alert mail (and, with the speech extra, audio for loudspeakers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from alertcommons.delivery import cellbroadcast
from alertcommons.problems import NotFound
from alertcommons.store import alerts as alert_queries

from .alerts import OptionalPrincipal, _visible_row
from .deps import ServicesDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get(
    "/{alert_id}/cell-broadcast",
    summary="Cell-broadcast text per language (3GPP TS 23.041 pages and the short form)",
)
async def get_cell_broadcast(
    alert_id: str,
    hub: ServicesDep,
    caller: OptionalPrincipal,
    lang: Annotated[
        list[str] | None, Query(description="Only these CAP languages (e.g. ja-JP, en-US)")
    ] = None,
) -> dict[str, Any]:
    row = await _visible_row(hub, caller, alert_id)
    found = cellbroadcast.for_alert(alert_queries.decode_json(row), lang)
    if lang and not found:
        raise NotFound(f"alert '{alert_id}' has no text in {', '.join(lang)}")
    return found
