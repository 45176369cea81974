"""/api/v1/alerts: publish, list, read, and the signed CAP as distributed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from alertcommons.auth.principal import Principal
from alertcommons.cap.values import CapValueError, parse_datetime
from alertcommons.hub.deliveries import acknowledge_by_cap
from alertcommons.hub.publish import XML_TYPES
from alertcommons.hub.services import Services
from alertcommons.jp.codes import CodeError, normalize
from alertcommons.problems import NotFound, Unprocessable
from alertcommons.store import alerts as alert_queries
from alertcommons.store.records import alert_records

from .deps import PrincipalDep, ServicesDep, principal

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
_optional_bearer = HTTPBearer(auto_error=False)


class PublishResult(BaseModel):
    id: str
    identifier: str
    sender: str
    sent: str
    deliveries: int


_PUBLISH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cap+xml": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=PublishResult,
    openapi_extra=_PUBLISH_BODY,
    responses={200: {"description": "Already published with the same content"}},
    summary="Publish an alert (CAP 1.2 XML or its JSON form)",
)
async def publish_alert(
    request: Request, response: Response, hub: ServicesDep, caller: PrincipalDep
) -> PublishResult:
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    alert = await hub.publisher.parse(body, content_type, hub.settings.max_body_bytes)
    if alert.msg_type == "Ack" and "issuer" not in caller.roles:
        # A receiver's CAP Ack acknowledges deliveries; it is not published as an alert.
        return JSONResponse(await acknowledge_by_cap(hub, caller, alert))  # type: ignore[return-value]
    outcome = await hub.publisher.publish(caller, alert, size=len(body))
    response.status_code = 201 if outcome.created else 200
    response.headers["Location"] = f"/api/v1/alerts/{outcome.alert_id}"
    return PublishResult(
        id=outcome.alert_id,
        identifier=outcome.identifier,
        sender=outcome.sender,
        sent=outcome.sent,
        deliveries=outcome.deliveries,
    )


async def optional_principal(
    request: Request,
    hub: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    return await principal(hub, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def _may_see(caller: Principal | None, row: Any) -> bool:
    if row.scope == "Public":
        return True
    return caller is not None and (caller.is_admin or caller.organization_id == row.organization_id)


@router.get("", summary="List alerts, newest first")
async def list_alerts(
    hub: ServicesDep,
    caller: OptionalPrincipal,
    active: Annotated[
        bool | None,
        Query(description="Only alerts in force now (status Actual unless `status` is given)"),
    ] = None,
    area: Annotated[
        str | None, Query(description="Local-government code: 2, 5 or 6 digits")
    ] = None,
    sender: str | None = None,
    status: Literal["Actual", "Exercise", "System", "Test", "Draft"] | None = None,
    since: Annotated[str | None, Query(description="Sent at or after (CAP date-time)")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    try:
        code = normalize(area) if area is not None else None
    except CodeError as exc:
        raise Unprocessable(str(exc), path="area") from None
    try:
        since_at = parse_datetime(since.strip()).astimezone(UTC) if since else None
    except CapValueError as exc:
        raise Unprocessable(str(exc), path="since") from None
    query = alert_queries.AlertQuery(
        active=active,
        area=code,
        sender=sender,
        # What is in force means the real world unless asked otherwise: a nationwide test
        # or an exercise is not an alert in force (as the endpoints' default filter).
        status=status if status is not None or not active else "Actual",
        since=since_at,
        cursor=cursor,
        limit=limit,
        visible_to=_viewer(caller),
    )
    now = datetime.now(UTC)

    def load(connection: Any) -> dict[str, Any]:
        rows = alert_queries.list_alerts(connection, query)
        return {
            "items": alert_records(connection, rows, now, visible_to=query.visible_to),
            "next_cursor": rows[-1].id if len(rows) == limit else None,
        }

    return await hub.store.read(load)


def _viewer(caller: Principal | None) -> str | None:
    if caller is None:
        return None
    return "*" if caller.is_admin else caller.organization_id


async def _visible_row(hub: Services, caller: Principal | None, alert_id: str) -> Any:
    row = await hub.store.read(lambda c: alert_queries.get(c, alert_id))
    if row is None or not _may_see(caller, row):
        raise NotFound(f"no alert with id '{alert_id}'")
    return row


@router.get("/{alert_id}", summary="One alert: its record and CAP content as JSON")
async def get_alert(alert_id: str, hub: ServicesDep, caller: OptionalPrincipal) -> dict[str, Any]:
    row = await _visible_row(hub, caller, alert_id)

    viewer = _viewer(caller)
    return await hub.store.read(lambda c: alert_records(c, [row], visible_to=viewer)[0])


@router.get(
    "/{alert_id}/cap",
    summary="The signed CAP 1.2 XML, byte for byte as distributed",
    response_class=Response,
    responses={200: {"content": {XML_TYPES[0]: {}}}},
)
async def get_alert_cap(alert_id: str, hub: ServicesDep, caller: OptionalPrincipal) -> Response:
    row = await _visible_row(hub, caller, alert_id)
    return Response(
        content=row.cap_xml,
        media_type="application/cap+xml",
        headers={"ETag": f'"{row.content_hash}"', "Cache-Control": "public, max-age=60"},
    )
