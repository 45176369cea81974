"""Console templates: a filled-in form becomes a CAP alert, and a preview says what it will be.

Templates: ``evacuation`` (levels 3/4/5 for the whole municipality or named districts),
``lift`` (解除), ``shelter`` (open / full / closed) and ``free`` (any CAP alert). The same
issuing logic as the HTTP API builds the message, so the console and integrators say the same
thing the same way.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from alertcommons.cap import to_json, to_xml
from alertcommons.cap.model import (
    CATEGORIES,
    CERTAINTIES,
    SEVERITIES,
    URGENCIES,
    Alert,
    Area,
    Info,
    ValuePair,
)
from alertcommons.cap.reader import read_alert
from alertcommons.cap.values import CapValueError, format_datetime, parse_polygon
from alertcommons.hub import japan, standing
from alertcommons.hub.services import Services
from alertcommons.jp import evacuation, national, shelters
from alertcommons.jp.changes import Change, changes
from alertcommons.jp.codes import CodeError, name_of, normalize, registry, with_check_digit
from alertcommons.jp.evacuation import JST
from alertcommons.problems import Conflict, ProblemError, Unprocessable
from alertcommons.store import alerts as alert_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store import orgs
from alertcommons.web import compose_places
from alertcommons.web.sessions import ConsoleUser

TEMPLATES = {
    "evacuation": ("避難情報（レベル3・4・5）", "Evacuation information (levels 3, 4, 5)"),
    "lift": ("避難情報の解除", "Lift evacuation information"),
    "shelter": ("避難所の開設・満員・閉鎖", "Shelter open / full / closed"),
    "free": ("任意のCAP情報", "Any CAP alert"),
    "national": ("国民保護・緊急情報（Jアラート）", "National warning (J-Alert)"),
}
NATIONAL_ONLY = ("national",)


def templates_for(user: ConsoleUser) -> dict[str, tuple[str, str]]:
    """The templates this user may use: national warnings for national issuers only."""
    national_issuer = user.jurisdiction.national
    return {
        key: names
        for key, names in TEMPLATES.items()
        if national_issuer or key not in NATIONAL_ONLY
    }


def skips_approval(template: str) -> bool:
    """National warnings go out at once: J-Alert has no approval step."""
    return template in NATIONAL_ONLY


DISTRICT_ROWS = 4  # empty rows offered; more appear when a form is pre-filled with more
MAX_DISTRICT_ROWS = 50
STATUSES = ("Actual", "Exercise", "Test")
WHOLE = "*"  # the lift form's value for the whole-municipality order


def lifted(form: dict[str, str]) -> list[str]:
    """The orders a lift form names: ``lift_N`` checkboxes holding a district or ``*``."""
    names = [
        form[key].strip()
        for key in sorted(form, key=lambda k: (len(k), k))
        if key.startswith("lift_") and form[key].strip()
    ]
    return list(dict.fromkeys(names))


@dataclass
class Preview:
    alert: Alert | None = None
    xml: str = ""
    texts: list[dict[str, str]] = field(default_factory=list)
    receivers: list[str] = field(default_factory=list)
    receiver_count: int = 0
    problems: list[str] = field(default_factory=list)
    municipality: str | None = None  # evacuation information: whose orders change
    changes: list[Change] = field(default_factory=list)


def municipality_choices(user: ConsoleUser) -> list[tuple[str, str]]:
    """(6-digit code, name) of the municipalities the user's organization may warn."""
    reg = registry()
    if user.jurisdiction.national:
        return []
    chosen = []
    for code, town in sorted(reg.municipalities.items()):
        if user.jurisdiction.covers(code):
            chosen.append((town.code6, f"{reg.prefectures[town.prefecture].name}{town.name}"))
    return chosen


def _field(form: dict[str, str], name: str, *, required: bool = True, limit: int = 2000) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise Unprocessable(f"'{name}' is required", path=name)
    if len(value) > limit:
        raise Unprocessable(f"'{name}' is longer than {limit} characters", path=name)
    return value


def _choice(form: dict[str, str], name: str, options: Any, default: str | None = None) -> str:
    value = (form.get(name) or default or "").strip()
    if value not in options:
        raise Unprocessable(f"'{name}' must be one of {', '.join(map(str, options))}", path=name)
    return value


def _municipality(form: dict[str, str]) -> str:
    try:
        code = normalize(_field(form, "municipality"))
    except CodeError as exc:
        raise Unprocessable(str(exc), path="municipality") from None
    if len(code) != 5:
        raise Unprocessable("choose a municipality, not a prefecture", path="municipality")
    return code


def _number(form: dict[str, str], name: str, low: float, high: float, default: float) -> float:
    text = (form.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise Unprocessable(f"'{name}' must be a number", path=name) from None
    if not low <= value <= high:
        raise Unprocessable(f"'{name}' must be between {low:g} and {high:g}", path=name)
    return value


async def build(hub: Services, user: ConsoleUser, template: str, form: dict[str, str]) -> Alert:
    """The alert a form describes; Unprocessable (with the field) when the form is wrong."""
    issuer = user.principal()
    # No default: an Actual order is never issued because nobody changed a preselection.
    status = _choice(form, "status", STATUSES)
    if template == "evacuation":
        districts: list[tuple[str | None, str | None]] = []
        for row in range(1, MAX_DISTRICT_ROWS + 1):
            name = _field(form, f"district_{row}", required=False, limit=100)
            polygon = _field(form, f"polygon_{row}", required=False, limit=20_000) or None
            if polygon and not name:
                raise Unprocessable(
                    f"district {row} has an outline but no name",
                    path=f"district_{row}",
                    detail_ja=f"地区{row}に範囲がありますが、地区名がありません。",
                )
            if name and name not in (d[0] for d in districts):
                districts.append((name, polygon))
        districts = await compose_places.picked_districts(hub, form, districts)
        return await japan.evacuation_alert(
            hub.store,
            issuer,
            _municipality(form),
            level=int(_choice(form, "level", ("3", "4", "5"))),
            hazard=_choice(form, "hazard", tuple(evacuation.HAZARDS)),
            districts=districts,
            hours=_number(form, "hours", 1, 24 * 14, 24),
            status=status,
        )
    if template == "lift":
        chosen = lifted(form)
        if not chosen:
            raise Unprocessable(
                "choose the orders to lift",
                path="lift",
                detail_ja="解除する対象（地区または全域）を選んでください。",
            )
        return await japan.evacuation_alert(
            hub.store,
            issuer,
            _municipality(form),
            level=None,
            hazard=None,
            districts=[(None if name == WHOLE else name, None) for name in chosen],
            lift=True,
            status=status,
        )
    if template == "shelter":
        return await _shelter(hub, user, form, status)
    if template == "free":
        return await _free(hub, user, form, status)
    if template == "national":
        if not user.jurisdiction.national:
            raise Unprocessable("national warnings are for national issuers", path="template")
        codes = [c for c in re.split(r"[\s,、]+", form.get("areas", "").strip()) if c]
        if not codes:
            raise Unprocessable("give the areas (prefecture or municipality codes)", path="areas")
        for number, code in enumerate(codes):
            try:
                normalize(code)
            except CodeError as exc:
                raise Unprocessable(f"area {number + 1}: {exc}", path="areas") from None
        return national.build(
            user.sender or "",
            _choice(form, "kind", tuple(national.KINDS)),
            codes,
            status=status,
            description_ja=_field(form, "description_ja", required=False) or None,
            languages=await japan.languages_of(hub.store, user.organization_id),
        )
    raise Unprocessable(f"no template '{template}'", path="template")


async def _shelter(hub: Services, user: ConsoleUser, form: dict[str, str], status: str) -> Alert:
    form = await compose_places.with_picked_site(hub, form)
    code = _municipality(form)
    key = _field(form, "shelter_id", limit=64)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key):
        raise Unprocessable("a shelter id is letters, digits, '.', '_' or '-'", path="shelter_id")
    state = _choice(form, "state", tuple(shelters.SHELTER_STATES))
    capacity = form.get("capacity", "").strip()
    shelter = shelters.Shelter(
        municipality=code,
        key=key,
        name=_field(form, "name", limit=100),
        address=_field(form, "address", limit=200),
        lat=_number(form, "lat", 20, 46, 0),
        lon=_number(form, "lon", 122, 154, 0),
        state=state,
        capacity=int(_number(form, "capacity", 0, 1_000_000, 0)) if capacity else None,
        hazards=tuple(h for h in evacuation.HAZARDS if form.get(f"hazard_{h}")),
        name_en=_field(form, "name_en", required=False, limit=100) or None,
        status=status,
    )
    if not form.get("lat") or not form.get("lon"):
        raise Unprocessable("give the shelter's location (lat, lon) or click it on the map")
    return await japan.shelter_alert(hub.store, user.principal(), shelter)


async def _free(hub: Services, user: ConsoleUser, form: dict[str, str], status: str) -> Alert:
    moment = datetime.now(UTC).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    expires = format_datetime(moment + timedelta(hours=_number(form, "hours", 1, 24 * 14, 24)))
    codes = []
    for number, raw in enumerate(re.split(r"[\s,、]+", form.get("areas", "").strip())):
        if raw:
            try:
                canonical = normalize(raw)
            except CodeError as exc:
                raise Unprocessable(f"area {number + 1}: {exc}", path="areas") from None
            codes.append(canonical)
    polygon = _field(form, "polygon", required=False, limit=20_000) or None
    if polygon:
        try:
            parse_polygon(polygon)
        except CapValueError as exc:
            raise Unprocessable(str(exc), path="polygon") from None
    if not codes and not polygon:
        raise Unprocessable("give area codes or draw an outline", path="areas")
    geocodes = [
        ValuePair("JIS X 0402", with_check_digit(c if len(c) == 5 else c + "000")) for c in codes
    ]
    area_desc = _field(form, "area_desc", required=False, limit=200) or "、".join(
        name_of(c) for c in codes
    )
    area = Area(
        area_desc=area_desc or "対象地域",
        polygons=[polygon] if polygon else [],
        geocodes=geocodes,
    )
    base: dict[str, Any] = {
        "categories": [_choice(form, "category", CATEGORIES, "Safety")],
        "event": _field(form, "event", limit=200),
        "urgency": _choice(form, "urgency", URGENCIES, "Expected"),
        "severity": _choice(form, "severity", SEVERITIES, "Moderate"),
        "certainty": _choice(form, "certainty", CERTAINTIES, "Likely"),
        "effective": sent,
        "expires": expires,
        "sender_name": user.organization_name,
    }
    infos = [
        Info(
            language="ja-JP",
            headline=_field(form, "headline_ja", limit=200),
            description=_field(form, "description_ja", required=False) or None,
            instruction=_field(form, "instruction_ja", required=False) or None,
            areas=[area],
            **base,
        )
    ]
    if _field(form, "headline_en", required=False, limit=200):
        infos.append(
            Info(
                language="en-US",
                headline=_field(form, "headline_en", limit=200),
                description=_field(form, "description_en", required=False) or None,
                instruction=_field(form, "instruction_en", required=False) or None,
                areas=[area],
                **base,
            )
        )
    msg_type, references = "Alert", None
    replaced = (form.get("replaces") or "").strip()
    if replaced:
        row = await hub.store.read(lambda c: alert_queries.get(c, replaced))
        if row is None or row.organization_id != user.organization_id:
            raise Unprocessable("the alert to update is not one of yours", path="replaces")
        msg_type, references = "Update", f"{row.sender},{row.identifier},{row.sent_text}"
    return Alert(
        identifier=f"console-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
        sender=user.sender or "",
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope="Public",
        references=references,
        infos=infos,
    )


def cancel_of(row: Any, user: ConsoleUser) -> Alert:
    """A Cancel of a stored alert, saying so in each of its languages."""
    original = read_alert(row.cap_xml).alert
    moment = datetime.now(UTC).astimezone(JST).replace(microsecond=0)
    infos = []
    for info in original.infos:
        japanese = (info.language or "").startswith("ja")
        note = "取り消し" if japanese else "Cancelled"
        infos.append(
            Info(
                language=info.language,
                categories=list(info.categories),
                event=info.event,
                response_types=["AllClear"],
                urgency="Past",
                severity="Minor",
                certainty=info.certainty,
                event_codes=list(info.event_codes),
                effective=format_datetime(moment),
                expires=info.expires,
                sender_name=info.sender_name,
                headline=f"【{note}】{info.headline or info.event}"[:200],
                description=(
                    "この情報は取り消されました。" if japanese else "This message is cancelled."
                ),
                parameters=list(info.parameters),
                areas=list(info.areas),
            )
        )
    return Alert(
        identifier=f"console-cancel-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
        sender=row.sender,
        sent=format_datetime(moment),
        status=row.status,
        msg_type="Cancel",
        scope=row.scope,
        references=f"{row.sender},{row.identifier},{row.sent_text}",
        infos=infos,
    )


async def draft_alert(
    hub: Services, user: ConsoleUser, template: str, form: dict[str, str]
) -> Alert:
    """The alert a draft stands for, built now, so that what the approver previews is what
    approving publishes. A cancel draft is re-checked: its alert must still be in force
    (another cancel or an update may have been approved since the draft was made)."""
    if template != "cancel":
        return await build(hub, user, template, form)
    alert_id = form.get("alert_id", "")
    target = await hub.store.read(lambda c: alert_queries.get(c, alert_id))
    if target is None or target.organization_id != user.organization_id:
        raise Unprocessable(
            "取り消す情報が見つかりません。 The alert this draft cancels does not exist.",
            path="alert_id",
        )
    if not alert_queries.is_active(target):
        why = "取り消し・更新済み" if target.superseded_by else "発表中ではありません"
        raise Conflict(
            f"この情報はすでに{why}のため、取り消せません。この下書きは差し戻してください。"
            f" Alert {target.identifier} is no longer in force (already cancelled, updated or"
            " expired): there is nothing to cancel; reject this draft.",
            alert_id=target.id,
        )
    return cancel_of(target, user)


async def preview(hub: Services, user: ConsoleUser, alert: Alert) -> Preview:
    """What the alert will be and whom it reaches, without publishing anything."""
    shown = Preview(alert=alert, xml=to_xml(alert).decode())
    await _changes(hub, user, alert, shown)
    for info in alert.infos:
        shown.texts.append(
            {
                "language": info.language or "",
                "headline": info.headline or "",
                "description": info.description or "",
                "instruction": info.instruction or "",
            }
        )
    try:
        # the publisher's own dry run: the same checks and the outbox's rule for whom it
        # reaches, earlier recipients of an Update or Cancel included
        check = await hub.publisher.check(user.principal(), alert)
    except ProblemError as exc:
        shown.problems.append(exc.detail)
        return shown
    shown.problems = list(check.problems)

    def reach(connection: Any) -> list[str]:
        rows = endpoint_queries.by_ids(connection, check.receivers)
        names = {row.id: row.name for row in orgs.list_orgs(connection)}
        return receivers_shown(rows.values(), names, user)

    shown.receiver_count = len(check.receivers)
    shown.receivers = await hub.store.read(reach)
    return shown


def receivers_shown(
    endpoints: Iterable[Any], names: dict[str, str], user: ConsoleUser
) -> list[str]:
    """Whom an alert reaches, as an issuer may see it: other organizations by name with how
    many of their endpoints (never their labels or ids); admins and the organization's own
    endpoints by label."""
    counts: Counter[str] = Counter()
    own: list[str] = []
    for row in endpoints:
        if user.is_admin or row.organization_id == user.organization_id:
            own.append(row.label or row.id)
        else:
            counts[names.get(row.organization_id, "?")] += 1
    others = [name if n == 1 else f"{name} ({n})" for name, n in sorted(counts.items())]
    return sorted(own) + others


async def _changes(hub: Services, user: ConsoleUser, alert: Alert, shown: Preview) -> None:
    """For evacuation information: each order's level before and after this message."""
    document = to_json(alert)
    if evacuation.level_of(document) is None:
        return
    code = standing.municipality_of(document)
    if code is None:
        return
    world = alert.status or "Actual"
    before, _ = await standing.orders_in_force(hub.store, code, user.sender, world)
    after = [] if alert.msg_type == "Cancel" else evacuation.orders_of(document)
    shown.municipality = code
    shown.changes = changes(before, after)
