"""/api/v1/jp/evacuation: issue, raise, lower and lift evacuation information; its state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from alertcommons.auth.principal import Principal
from alertcommons.cap.model import Alert
from alertcommons.hub import audio, japan, national_tests, places
from alertcommons.hub.services import Services
from alertcommons.jp import evacuation, national, shelters
from alertcommons.jp.codes import CodeError, name_of, normalize
from alertcommons.problems import Forbidden, Unprocessable
from alertcommons.store.times import alert_time

from .deps import AdminDep, PrincipalDep, ServicesDep

router = APIRouter(prefix="/api/v1/jp", tags=["japan"])


class DistrictIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    polygon: str | None = Field(default=None, description="CAP polygon 'lat,lon lat,lon …'")


class EvacuationIn(BaseModel):
    municipality: str = Field(description="local-government code, 5 or 6 digits")
    level: Literal[3, 4, 5] | None = None
    hazard: Literal[tuple(evacuation.HAZARDS)] | None = None  # type: ignore[valid-type]
    districts: list[DistrictIn] = Field(default_factory=list, max_length=200)
    action: Literal["issue", "lift"] = "issue"
    hours: float = Field(default=24.0, gt=0, le=24 * 14)
    status: Literal["Actual", "Exercise", "Test"] = "Actual"


# The world a state query reports on: a drill's state never mixes with the real one.
StatusQuery = Annotated[
    Literal["Actual", "Exercise", "Test", "System"],
    Query(description="whose state: Actual (the default), Exercise, Test or System"),
]


def _municipality(code: str) -> str:
    return places.municipality(code, path="municipality")


@router.post("/evacuation", status_code=201, summary="Issue, change or lift evacuation information")
async def post_evacuation(
    body: EvacuationIn, hub: ServicesDep, caller: PrincipalDep, response: Response
) -> dict[str, Any]:
    code = _municipality(body.municipality)
    alert = await japan.evacuation_alert(
        hub.store,
        caller,
        code,
        level=body.level,
        hazard=body.hazard,
        districts=[(d.name, d.polygon) for d in body.districts],
        lift=body.action == "lift",
        hours=body.hours,
        status=body.status,
    )
    return {**await _published(hub, caller, alert, response), "level": japan.level_in(alert)}


@router.get("/evacuation", summary="Evacuation information in force for a municipality")
async def get_evacuation(
    hub: ServicesDep,
    code: Annotated[str, Query(description="local-government code, 5 or 6 digits")],
    status: StatusQuery = "Actual",
) -> dict[str, Any]:
    canonical = _municipality(code)
    # One look at what is in force serves the evacuation, headquarters and shelter parts.
    in_force = await japan.all_in_force(hub.store, canonical, None, lambda d: True, status)
    current = next(
        ((row, doc) for row, doc in in_force if evacuation.level_of(doc) is not None), None
    )
    state: dict[str, Any] = {
        "code": canonical,
        "name": name_of(canonical),
        "status": status,
        "in_force": False,
        "level": None,
        "hazard": None,
        "districts": [],
        "orders": [],
    }
    state["headquarters"] = japan.latest_headquarters(in_force)
    state["shelters"] = japan.latest_shelters(in_force)
    if current is None:
        return state
    row, document = current
    info = document["info"][0]  # the highest level, in the first language
    language = info.get("language")
    areas = [
        str(area.get("areaDesc"))
        for i in document["info"]
        if i.get("language") == language
        for area in i.get("area", [])
    ]
    state.update(
        {
            "in_force": True,
            "level": evacuation.level_of(document),
            "label": info.get("event"),
            "hazard": japan.hazard_of(document),
            "districts": list(dict.fromkeys(areas)),
            "orders": japan.evacuation_orders(row, document),
            "alert_id": row.id,
            "identifier": row.identifier,
            "sender": row.sender,
            "since": row.sent_text,
            "expires": alert_time(row.expires, row.sent_text),  # in the offset of "since"
        }
    )
    return state


class NationalWarningIn(BaseModel):
    kind: Literal[tuple(national.KINDS)] = Field(  # type: ignore[valid-type]
        description="missile, eew, major_tsunami, air_attack or large_scale_terror"
    )
    areas: list[str] = Field(
        min_length=1, max_length=2000, description="local-government codes: 2, 5 or 6 digits"
    )
    status: Literal["Actual", "Exercise", "Test"] = "Actual"
    description: str | None = Field(default=None, max_length=2000)
    minutes: int = Field(default=60, gt=0, le=24 * 60)


@router.post(
    "/national-warnings",
    status_code=201,
    summary="Send a national warning: top priority, loudspeakers activated",
)
async def post_national_warning(
    body: NationalWarningIn, hub: ServicesDep, caller: PrincipalDep, response: Response
) -> dict[str, Any]:
    if not caller.jurisdiction.national:
        raise Forbidden("national warnings are sent by national issuers (jurisdiction '*') only")
    for number, code in enumerate(body.areas):
        try:
            normalize(code)
        except CodeError as exc:
            raise Unprocessable(str(exc), path=f"areas/{number}") from None
    alert = national.build(
        caller.sender or "",
        body.kind,
        body.areas,
        status=body.status,
        description_ja=body.description,
        minutes=body.minutes,
        languages=await japan.languages_of(hub.store, caller.organization_id),
    )
    return {**await _published(hub, caller, alert, response), "activation": True}


@router.get("/jma-feed", summary="JMA feed ingest: polls, published reports, errors")
async def jma_feed_status(hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    if hub.jma is None:
        return {"enabled": False}
    return {"enabled": True, **hub.jma.status()}


@router.post("/national-tests", status_code=201, summary="Send a nationwide test transmission")
async def start_national_test(
    hub: ServicesDep, caller: AdminDep, response: Response
) -> dict[str, Any]:
    outcome = await national_tests.start(hub, caller.actor)
    response.headers["Location"] = f"/api/v1/jp/national-tests/{outcome.alert_id}"
    return {
        "id": outcome.alert_id,
        "identifier": outcome.identifier,
        "sent": outcome.sent,
        "receivers": outcome.deliveries,
    }


@router.get("/national-tests/{test_id}", summary="Who got the test, who activated, who not")
async def national_test_report(test_id: str, hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    alert, summary = await national_tests.report(hub, test_id)
    missing = [item for item in summary["items"] if item["state"] in ("pending", "failed")]
    return {
        "id": test_id,
        "sent": alert.sent_text,
        **{
            key: summary[key] for key in ("total", "pending", "delivered", "acknowledged", "failed")
        },
        "not_reached": [
            {
                "endpoint_id": i["endpoint_id"],
                "organization": i["organization"],
                "label": i["label"],
                "state": i["state"],
                "last_error": i["last_error"],
            }
            for i in missing
        ],
        "items": summary["items"],
    }


class ShelterIn(BaseModel):
    municipality: str = Field(description="local-government code, 5 or 6 digits")
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="your stable shelter id")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    address: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=20, le=46)
    lon: float = Field(ge=122, le=154)
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    state: Literal["open", "full", "closed"]
    hazards: list[Literal[tuple(evacuation.HAZARDS)]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=10
    )
    status: Literal["Actual", "Exercise", "Test"] = "Actual"


@router.post("/shelters", status_code=201, summary="Open a shelter, mark it full, or close it")
async def post_shelter(
    body: ShelterIn, hub: ServicesDep, caller: PrincipalDep, response: Response
) -> dict[str, Any]:
    shelter = shelters.Shelter(
        municipality=_municipality(body.municipality),
        key=body.id,
        name=body.name,
        address=body.address,
        lat=body.lat,
        lon=body.lon,
        state=body.state,
        capacity=body.capacity,
        hazards=tuple(body.hazards),
        name_en=body.name_en,
        status=body.status,
    )
    alert = await japan.shelter_alert(hub.store, caller, shelter)
    return await _published(hub, caller, alert, response)


@router.get("/shelters", summary="Shelters open (or full) in a municipality")
async def get_shelters(
    hub: ServicesDep,
    code: Annotated[str, Query(description="local-government code, 5 or 6 digits")],
    status: StatusQuery = "Actual",
) -> dict[str, Any]:
    canonical = _municipality(code)
    return {
        "code": canonical,
        "name": name_of(canonical),
        "status": status,
        "shelters": japan.latest_shelters(
            await japan.all_in_force(
                hub.store, canonical, None, lambda d: shelters.shelter_of(d) is not None, status
            )
        ),
    }


class HeadquartersIn(BaseModel):
    municipality: str = Field(description="local-government code, 5 or 6 digits")
    kind: Literal["disaster", "alert"] = Field(
        default="disaster", description="disaster: 災害対策本部, alert: 災害警戒本部"
    )
    state: Literal["established", "dissolved"]
    status: Literal["Actual", "Exercise", "Test"] = "Actual"


@router.post(
    "/headquarters", status_code=201, summary="Set up or dissolve the disaster headquarters"
)
async def post_headquarters(
    body: HeadquartersIn, hub: ServicesDep, caller: PrincipalDep, response: Response
) -> dict[str, Any]:
    alert = await japan.headquarters_alert(
        hub.store,
        caller,
        _municipality(body.municipality),
        body.kind,
        body.state == "established",
        body.status,
    )
    return await _published(hub, caller, alert, response)


async def _published(
    hub: Services, caller: Principal, alert: Alert, response: Response
) -> dict[str, Any]:
    alert = await audio.attach(alert, hub.settings)  # signed with its announcement
    outcome = await hub.publisher.publish(caller, alert)
    response.headers["Location"] = f"/api/v1/alerts/{outcome.alert_id}"
    return {
        "id": outcome.alert_id,
        "identifier": outcome.identifier,
        "sender": outcome.sender,
        "sent": outcome.sent,
        "deliveries": outcome.deliveries,
        "msgType": alert.msg_type,
        "references": alert.references,
    }
