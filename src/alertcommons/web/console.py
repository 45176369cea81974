"""The operator console (/console): sign in, compose from templates, preview, publish or ask
for approval, watch deliveries land, cancel. The admin pages are in ``admin.py``, what every
page needs (user, CSRF, roles) in ``guard.py``.

Plain HTML forms that work with the keyboard alone and without scripts; scripts only add the
map and the live delivery board. Every form that changes something carries the session's
CSRF token; every change lands in the audit log.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from alertcommons.cap.model import CATEGORIES, CERTAINTIES, SEVERITIES, URGENCIES, Alert
from alertcommons.hub import audio, deliveries, drafts, standing
from alertcommons.hub.services import Services
from alertcommons.jp import evacuation, phrases, shelters
from alertcommons.jp.codes import CodeError, normalize, registry
from alertcommons.problems import ProblemError
from alertcommons.store import alerts as alert_queries
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store import users

from . import admin, compose, compose_places, confirm_state, places, receivers, words
from .guard import (
    Refused,
    checked_form,
    error_page,
    hub_of,
    install_handlers,
    is_secure,
    one_language,
    render,
    require_issuer,
    signed_in,
)
from .render import security_headers
from .sessions import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_HOURS,
    ConsoleUser,
    LockOut,
    csrf_ok,
    set_password,
    sign_in,
    sign_out,
)

router = APIRouter(prefix="/console", include_in_schema=False)
HOME_ALL_MUNICIPALITIES = 10  # up to this many, home lists each, even with nothing in force


def install(app: FastAPI) -> None:
    install_handlers(app)
    app.include_router(router)
    app.include_router(admin.router)
    app.include_router(receivers.router)
    app.include_router(places.router)


# ---------------------------------------------------------------- sign-in


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request, "console_login.html", None, csrf=token, next=_next(request), error=None
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path="/console",
    )
    return response


def _next(request: Request, given: str | None = None) -> str:
    target = given or request.query_params.get("next") or "/console"
    # Only paths inside the console: an open redirect would help phishing.
    return target if target.startswith("/console") and "//" not in target else "/console"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    raw = await request.form()
    form = {key: str(value) for key, value in raw.items()}
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf_token")):
        return error_page(
            request, 403, "もう一度サインイン画面を開いてください。 (CSRF check failed)"
        )
    hub = hub_of(request)
    outcome = await sign_in(
        hub.store,
        form.get("username", "").strip()[:64],
        form.get("password", "")[:1024],
        request.cookies.get(COOKIE),
        LockOut(
            hub.settings.login_max_failures, timedelta(seconds=hub.settings.login_lock_seconds)
        ),
    )
    if outcome.secret is None:
        return render(
            request,
            "console_login.html",
            None,
            status=401,
            csrf=form.get("csrf_token"),
            next=_next(request, form.get("next")),
            error=one_language(outcome.error or "", words.console_language(request)),
        )
    response = RedirectResponse(_next(request, form.get("next")), status_code=303)
    response.set_cookie(
        COOKIE,
        outcome.secret,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    user = await signed_in(request)
    await checked_form(request, user)
    await sign_out(hub_of(request).store, user)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    return render(request, "console_account.html", user, error=None, done=False)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    form = await checked_form(request, user)
    if form.get("new") != form.get("repeat"):
        error: str | None = "確認用のパスワードが一致しません。 The two new passwords differ."
    else:
        error = await set_password(
            hub_of(request).store, user, form.get("current", ""), form.get("new", "")
        )
    status = 200 if error is None else 422
    shown = one_language(error, words.console_language(request)) if error else None
    return render(
        request, "console_account.html", user, status=status, error=shown, done=error is None
    )


# ---------------------------------------------------------------- home


@router.get("", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    hub = hub_of(request)

    def load(connection: Any) -> dict[str, Any]:
        recent = []
        if user.is_issuer and user.sender:
            query = alert_queries.AlertQuery(sender=user.sender, limit=20)
            recent = alert_queries.list_alerts(connection, query)
        drafts = users.pending_drafts(connection, user.organization_id) if user.is_issuer else []
        own_endpoints = endpoint_queries.for_organization(connection, user.organization_id)
        return {"recent": recent, "drafts": drafts, "endpoints": own_endpoints}

    loaded = await hub.store.read(load)
    lang = words.console_language(request)
    places: list[standing.MunicipalityState] = []
    if user.is_issuer:
        codes = [normalize(code) for code, _ in compose.municipality_choices(user)]
        places = await standing.of_issuer(hub.store, user.sender, codes)
        if len(codes) > HOME_ALL_MUNICIPALITIES:  # a prefecture: the ones with something
            places = [p for p in places if not p.quiet]
    recent = [
        {
            "row": row,
            "headline": _headline(alert_queries.decode_json(row), lang),
            "active": alert_queries.is_active(row),
        }
        for row in loaded["recent"]
    ]
    return render(
        request,
        "console_home.html",
        user,
        recent=recent,
        places=places,
        levels=evacuation.LEVELS,
        hazards=evacuation.HAZARDS,
        hq_kinds=shelters.HQ_KINDS,
        drafts=loaded["drafts"],
        endpoints=loaded["endpoints"],
        notice=request.query_params.get("notice"),
    )


def _headline(document: dict[str, Any], lang: str = "ja") -> str:
    """The headline in the page's language when the message has it (else its first)."""
    infos = document.get("info") or [{}]
    info = next(
        (
            i
            for i in infos
            if str(i.get("language") or "")[:2] == lang and "-x-" not in str(i.get("language"))
        ),
        infos[0],
    )
    return str(info.get("headline") or info.get("event") or "")


# ---------------------------------------------------------------- compose


@router.get("/compose", response_class=HTMLResponse)
async def compose_form(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_issuer(user)
    template = request.query_params.get("template", "evacuation")
    if template not in compose.templates_for(user):
        template = "evacuation"
    form = {k: v for k, v in request.query_params.items() if k not in ("template", "lang")}
    return await _compose_page(request, user, template, form)


async def _compose_page(
    request: Request,
    user: ConsoleUser,
    template: str,
    form: dict[str, str],
    *,
    shown: compose.Preview | None = None,
    error: str | None = None,
    status: int = 200,
    view: str = "console_compose.html",
    confirmed_state: str = "",
) -> HTMLResponse:
    municipalities = compose.municipality_choices(user)
    in_force = await _in_force(request, user, template, form, municipalities)
    if in_force and template == "evacuation" and not form.get("hazard"):
        form = {**form, "hazard": in_force[0].hazard}  # the hazard of the highest order
    places = compose_places.choices(hub_of(request), form, municipalities)
    filled = [n for n in range(1, compose.MAX_DISTRICT_ROWS + 1) if form.get(f"district_{n}")]
    # With registered districts to tick, one row of typed districts is enough to start with.
    first_rows = 2 if places["districts"] else compose.DISTRICT_ROWS
    rows = max(first_rows, (max(filled) + 1) if filled else 0)
    return render(
        request,
        view,
        user,
        status=status,
        template=template,
        form=form,
        municipalities=municipalities,
        in_force=in_force,
        place_en=_english_name(form.get("municipality"), municipalities),
        names_en=(
            {code: _english_name(code, municipalities) for code, _ in municipalities}
            if words.console_language(request) == "en"
            else {}
        ),
        whole=compose.WHOLE,
        levels=evacuation.LEVELS,
        hazards=evacuation.HAZARDS,
        districts=range(1, min(rows, compose.MAX_DISTRICT_ROWS) + 1),
        choices={
            "urgency": URGENCIES,
            "severity": SEVERITIES,
            "certainty": CERTAINTIES,
            "category": CATEGORIES,
        },
        preview=shown,
        error=error,
        confirmed_state=confirmed_state,
        confirm_field=confirm_state.FIELD,
        centre=_centre(form.get("municipality"), compose.municipality_choices(user)),
        places=places,
    )


async def _in_force(
    request: Request,
    user: ConsoleUser,
    template: str,
    form: dict[str, str],
    municipalities: list[tuple[str, str]],
) -> list[evacuation.Standing]:
    """The orders in force that evacuation and lift forms start from (in the world of the
    status chosen; Actual until one is)."""
    if template not in ("evacuation", "lift"):
        return []
    chosen = form.get("municipality") or (municipalities[0][0] if municipalities else "")
    world = form.get("status") if form.get("status") in compose.STATUSES else "Actual"
    try:
        code = normalize(chosen) if chosen else ""
    except CodeError:
        return []
    if len(code) != 5:
        return []
    orders, _ = await standing.orders_in_force(
        hub_of(request).store, code, user.sender, world or "Actual"
    )
    return orders


def _english_name(chosen: str | None, choices: list[tuple[str, str]]) -> str:
    """The chosen (or first) municipality's name in romaji, for English pages."""
    code = chosen or (choices[0][0] if choices else "")
    try:
        return phrases.place_name(normalize(code), "en-US").split(",")[0] if code else ""
    except CodeError:
        return code


def _centre(chosen: str | None, choices: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Where the compose map starts: the chosen (or first) municipality's centre."""
    code = chosen or (choices[0][0] if choices else None)
    try:
        town = registry().municipalities.get(normalize(code)) if code else None
    except CodeError:
        town = None
    return [{"lat": town.lat, "lon": town.lon, "label": town.name}] if town else []


@router.post("/compose", response_class=HTMLResponse)
async def compose_submit(request: Request) -> Response:
    user = await signed_in(request)
    require_issuer(user)
    form = await checked_form(request, user)
    template = form.get("template", "")
    if template not in compose.templates_for(user):
        raise Refused(403, "このテンプレートは使えません。 This template is not for you.")
    hub = hub_of(request)
    lang = words.console_language(request)
    form = {k: v for k, v in form.items() if k not in ("csrf_token",)}
    action = form.pop("action", "preview")
    confirmed = form.pop("confirmed", "") == "yes"
    confirmed_state = form.pop(confirm_state.FIELD, "")
    if action == "edit":  # back from the confirmation, everything as it was
        return await _compose_page(request, user, template, form)
    try:
        alert = await compose.build(hub, user, template, form)
    except ProblemError as exc:
        error = words.error_text(exc, lang)
        return await _compose_page(request, user, template, form, error=error, status=exc.status)
    drafting = user.needs_approval and not compose.skips_approval(template)
    if action == "preview" or (alert.status == "Actual" and not drafting and not confirmed):
        # An Actual message goes out only from the confirmation page, which restates it.
        shown = await compose.preview(hub, user, alert)
        view = "console_compose.html" if action == "preview" else "console_confirm.html"
        return await _compose_page(
            request,
            user,
            template,
            form,
            shown=shown,
            view=view,
            confirmed_state=confirm_state.fingerprint(alert),
        )
    changed = confirmed_state and confirmed_state != confirm_state.fingerprint(alert)
    if confirmed and not drafting and changed:
        # The state changed since the confirmation (another officer published): what would go
        # out now is not what was confirmed. Back to the preview, built from the new state.
        # (A form posted with confirmed=yes but no fingerprint did not come from the page: a
        # script's own explicit send, checked as before.)
        shown = await compose.preview(hub, user, alert)
        error = words.chooser(lang)(
            "確認の後に、この市区町村の発令状況が変わりました（ほかの担当者が発信しました）。"
            "発信していません。新しい状況での内容を確かめてから、もう一度発信してください。",
            "The municipality's state changed after you confirmed (another officer published)."
            " Nothing was sent. Check the message built from the new state, then send again.",
        )
        return await _compose_page(
            request, user, template, form, shown=shown, error=error, status=409
        )
    if drafting:
        summary = _headline({"info": [{"headline": alert.infos[0].headline}]})
        draft_id = await _new_draft(hub, user, template, form, summary)
        return RedirectResponse(f"/console/drafts/{draft_id}", status_code=303)
    try:
        alert = await audio.attach(alert, hub.settings)  # signed with its announcement
        outcome = await hub.publisher.publish(user.principal(), alert)
    except ProblemError as exc:
        error = words.error_text(exc, lang)
        return await _compose_page(request, user, template, form, error=error, status=exc.status)
    return RedirectResponse(f"/console/alerts/{outcome.alert_id}", status_code=303)


async def _new_draft(
    hub: Services, user: ConsoleUser, template: str, form: dict[str, str], summary: str
) -> str:
    return await drafts.create(hub, user, template, form, summary)


# ---------------------------------------------------------------- drafts and approval


async def _draft(hub: Services, user: ConsoleUser, draft_id: str) -> Any:
    try:
        return await drafts.get(hub, user, draft_id)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
async def draft_page(draft_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_issuer(user)
    hub = hub_of(request)
    row = await _draft(hub, user, draft_id)
    form = json.loads(row.form)
    shown, error = None, None
    if row.state == "pending":
        try:
            alert = await compose.draft_alert(hub, user, row.template, form)
            shown = await compose.preview(hub, user, alert)
        except ProblemError as exc:
            error = one_language(exc.detail, words.console_language(request))
    author = await hub.store.read(lambda c: users.get_user(c, row.created_by))
    return render(
        request,
        "console_draft.html",
        user,
        draft=row,
        author=author.display_name if author else "?",
        own=row.created_by == user.user_id,
        preview=shown,
        error=error,
    )


@router.post("/drafts/{draft_id}/approve", response_class=HTMLResponse)
async def approve(draft_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_issuer(user)
    await checked_form(request, user)
    hub = hub_of(request)

    async def build(row: Any) -> Alert:
        # rebuilt and re-checked now, then signed with its announcement
        alert = await compose.draft_alert(hub, user, row.template, json.loads(row.form))
        return await audio.attach(alert, hub.settings)

    try:
        outcome = await drafts.approve(hub, user, draft_id, build)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return RedirectResponse(f"/console/alerts/{outcome.alert_id}", status_code=303)


@router.post("/drafts/{draft_id}/reject", response_class=HTMLResponse)
async def reject(draft_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_issuer(user)
    await checked_form(request, user)
    try:
        await drafts.reject(hub_of(request), user, draft_id)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return RedirectResponse("/console?notice=rejected", status_code=303)


# ---------------------------------------------------------------- one alert: board, cancel


async def _own_alert(hub: Services, user: ConsoleUser, alert_id: str) -> Any:
    row = await hub.store.read(lambda c: alert_queries.get(c, alert_id))
    if row is None or not (user.is_admin or row.organization_id == user.organization_id):
        raise Refused(404, "その情報はありません。 No such alert of yours.")
    return row


async def _board(hub: Services, user: ConsoleUser, alert_id: str) -> dict[str, Any]:
    return await deliveries.board(
        hub, alert_id, viewer=user.organization_id, is_admin=user.is_admin
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_board(alert_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    hub = hub_of(request)
    row = await _own_alert(hub, user, alert_id)
    document = alert_queries.decode_json(row)
    update_link, lift_link = _follow_up_links(row, document)
    return render(
        request,
        "console_alert.html",
        user,
        row=row,
        update_link=update_link,
        lift_link=lift_link,
        headline=_headline(document, words.console_language(request)),
        active=alert_queries.is_active(row),
        board=await _board(hub, user, alert_id),
    )


def _follow_up_links(row: Any, document: dict[str, Any]) -> tuple[str, str | None]:
    """Update and lift start from what the message holds: its municipality, hazard and
    districts; the level and the status are left for the officer."""
    if evacuation.level_of(document) is None:
        return "/console/compose?" + urlencode({"template": "free", "replaces": row.id}), None
    code = standing.municipality_of(document)
    town = registry().municipalities.get(code or "")
    place = town.code6 if town else ""
    orders = evacuation.orders_of(document)
    # The status is carried for a drill only: Actual is never preselected.
    world = {} if row.status == "Actual" else {"status": row.status}
    query = {"template": "evacuation", "municipality": place, **world}
    if orders:
        query["hazard"] = orders[0].hazard
    # Its districts fill the rows (a whole-municipality order is no row: it stays as it is
    # unless the officer empties the rows to change it).
    named = [o.key for o in orders if o.key is not None]
    query.update({f"district_{n}": key for n, key in enumerate(named, 1)})
    lift = {"template": "lift", "municipality": place, **world}
    return "/console/compose?" + urlencode(query), "/console/compose?" + urlencode(lift)


@router.get("/alerts/{alert_id}/events")
async def alert_events(alert_id: str, request: Request) -> StreamingResponse:
    user = await signed_in(request)
    hub = hub_of(request)
    await _own_alert(hub, user, alert_id)

    async def events() -> AsyncIterator[str]:
        last, beat = "", time.monotonic()
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            text = json.dumps(await _board(hub, user, alert_id), ensure_ascii=False)
            if text != last:
                last, beat = text, time.monotonic()
                yield f"event: board\ndata: {text}\n\n"
            elif time.monotonic() - beat > 15:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)

    headers = {**security_headers(hub.settings), "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.post("/alerts/{alert_id}/cancel", response_class=HTMLResponse)
async def cancel(alert_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_issuer(user)
    await checked_form(request, user)
    hub = hub_of(request)
    row = await _own_alert(hub, user, alert_id)
    if row.organization_id != user.organization_id or not alert_queries.is_active(row):
        raise Refused(409, "この情報は取り消せません（発表中ではありません）。 Not in force.")
    if user.needs_approval:
        summary = f"取り消し: {_headline(alert_queries.decode_json(row))}"
        draft_id = await _new_draft(hub, user, "cancel", {"alert_id": alert_id}, summary)
        return RedirectResponse(f"/console/drafts/{draft_id}", status_code=303)
    try:
        outcome = await hub.publisher.publish(user.principal(), compose.cancel_of(row, user))
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return RedirectResponse(f"/console/alerts/{outcome.alert_id}", status_code=303)
