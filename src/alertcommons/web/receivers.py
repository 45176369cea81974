"""The receiver organization's console (/console/receivers): its endpoints with their health
and last deliveries; register one, change its filter, label or active, rotate its signing
secret, send it a test delivery and watch the outcome, preview what a filter would match.

Each change is one hub operation (``hub/endpoints.py``, ``hub/endpoints_ops.py``), the same
the API's ``/api/v1/endpoints`` calls; the page reads through ``hub/endpoint_health.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from alertcommons.auth.principal import Principal
from alertcommons.delivery.filters import FilterError
from alertcommons.hub import endpoint_health, endpoints, endpoints_ops
from alertcommons.hub.services import Services
from alertcommons.problems import ProblemError, Unprocessable

from . import words
from .guard import Refused, checked_form, hub_of, render, signed_in
from .receiver_words import (
    FORM_CHANNELS,
    SETTING_WORDS,
    SEVERITY_CHOICES,
    STATE_WORDS,
    STATUS_CHOICES,
    URGENCY_CHOICES,
    filter_summary,
)
from .sessions import ConsoleUser

router = APIRouter(prefix="/console/receivers", include_in_schema=False)

# What the console's filter form sets; other keys (polygons, JMA areas …) set through the
# API are kept as they are when the form is saved.
FORM_FILTER_KEYS = ("areas", "events", "min_severity", "min_urgency", "statuses")
_LIST = re.compile(r"[\s,、，]+")


def require_receiver(user: ConsoleUser) -> Principal:
    """The user as a receiver of their organization: every account of a receiving
    organization manages its endpoints (such organizations only have ``viewer`` accounts)."""
    if user.organization_kind not in ("receiver", "both"):
        raise Refused(403, "この画面は受信機関の担当者用です。 Receiving organizations only.")
    return Principal(
        user.organization_id,
        user.organization_name,
        f"user:{user.user_id}",
        frozenset({"receiver"}),
        user.sender,
        user.jurisdiction,
    )


def _words(text: str) -> list[str]:
    return [word for word in _LIST.split(text.strip()) if word]


def filter_from_form(form: dict[str, str], kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """The filter the form describes, on top of the keys of ``kept`` it does not show."""
    document = {k: v for k, v in (kept or {}).items() if k not in FORM_FILTER_KEYS}
    if areas := _words(form.get("areas", "")):
        document["areas"] = areas
    if events := [e.strip() for e in re.split(r"[,、，\n]+", form.get("events", "")) if e.strip()]:
        document["events"] = events
    for key in ("min_severity", "min_urgency"):
        if form.get(key):
            document[key] = form[key]
    offered = [status for status, *_ in STATUS_CHOICES]
    statuses = [status for status in offered if form.get(f"status_{status}") == "on"]
    # a status the form does not offer (Draft), set through the API, stays
    statuses += [s for s in (kept or {}).get("statuses", []) if s not in offered]
    if statuses and statuses != ["Actual"]:
        document["statuses"] = statuses
    return document


def form_of(saved: dict[str, Any]) -> dict[str, str]:
    """A stored filter as the form's fields."""
    form = {
        "areas": ", ".join(saved.get("areas", [])),
        "events": ", ".join(saved.get("events", [])),
        "min_severity": saved.get("min_severity", ""),
        "min_urgency": saved.get("min_urgency", ""),
    }
    for status in saved.get("statuses", ["Actual"]):
        form[f"status_{status}"] = "on"
    return form


def _port(text: str | None, default: int) -> int | str:
    text = (text or "").strip()
    return int(text) if text.isdigit() else (text or default)


def settings_from_form(channel: str, form: dict[str, str]) -> dict[str, Any]:
    if channel == "webhook":
        return {"url": form.get("url", "").strip(), "format": form.get("format") or "cap"}
    if channel == "mqtt":
        return {
            "host": form.get("host", "").strip() or "127.0.0.1",
            "port": _port(form.get("port"), 1883),
            "topic_prefix": form.get("topic_prefix", "").strip() or "alerts",
            "format": form.get("format") or "cap",
        }
    if channel == "email":
        return {
            "to": _words(form.get("to", "")),
            "smtp_host": form.get("smtp_host", "").strip() or "127.0.0.1",
            "smtp_port": _port(form.get("smtp_port"), 25),
            "from": form.get("from", "").strip() or "alerts@alertcommons.invalid",
        }
    raise Refused(422, "この方式は選べません。 Choose webhook, MQTT or email.")


async def _preview(hub: Services, user: ConsoleUser, document: dict[str, Any]) -> Any:
    try:
        return await hub.store.read(
            lambda c: endpoints_ops.preview(c, document, organization_id=user.organization_id)
        )
    except FilterError as exc:
        raise Unprocessable(str(exc), path=f"filter/{exc.key}") from None


def _page(
    request: Request, view: str, user: ConsoleUser, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = words.console_language(request)
    return render(
        request,
        view,
        user,
        status=status,
        severities=SEVERITY_CHOICES,
        urgencies=URGENCY_CHOICES,
        statuses=STATUS_CHOICES,
        channels=[c for c in FORM_CHANNELS if c[0] in hub_of(request).dispatcher.channels],
        summary=lambda document: filter_summary(document, lang),
        state_words=STATE_WORDS,
        setting_words=SETTING_WORDS,
        **context,
    )


def _tr(request: Request) -> Callable[[str, str], str]:
    return words.chooser(words.console_language(request))


def _said(request: Request, exc: ProblemError) -> str:
    """A refusal from the hub, in the page's language."""
    return words.error_text(exc, words.console_language(request))


# ---------------------------------------------------------------- list and register


@router.get("", response_class=HTMLResponse)
async def endpoint_list(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_receiver(user)
    items = await endpoint_health.of_organization(hub_of(request), user.organization_id)
    return _page(request, "console_receivers.html", user, items=items)


def _new_page(
    request: Request,
    user: ConsoleUser,
    form: dict[str, str],
    *,
    error: str | None = None,
    preview: Any = None,
    status: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "console_receiver_new.html",
        user,
        status=status,
        form=form,
        error=error,
        preview=preview,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_form(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_receiver(user)
    defaults = {"channel": "webhook", "format": "cap", "backfill": "on", "status_Actual": "on"}
    return _new_page(request, user, defaults)


@router.post("/new", response_class=HTMLResponse)
async def register(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    caller = require_receiver(user)
    form = await checked_form(request, user)
    hub = hub_of(request)
    channel = form.get("channel", "")
    document = filter_from_form(form)
    try:
        if form.get("action") == "preview":
            shown = await _preview(hub, user, document)
            return _new_page(request, user, form, preview=shown)
        body = {
            "channel": channel,
            **settings_from_form(channel, form),
            "label": form.get("label", "").strip()[:200] or None,
            "filter": document,
            "backfill": form.get("backfill") == "on",
        }
        row, config, queued = await endpoints.create(hub, caller, body)
    except ProblemError as exc:
        return _new_page(request, user, form, error=_said(request, exc), status=exc.status)
    notice = _tr(request)(
        f"登録しました。発表中の情報 {queued} 件を送ります。",
        f"Registered; {queued} alert(s) in force queued.",
    )
    return await _endpoint_page(
        request, user, row.id, new_secret=config.get("secret"), notice=notice
    )


# ---------------------------------------------------------------- one endpoint


async def _own_endpoint(hub: Services, user: ConsoleUser, endpoint_id: str) -> dict[str, Any]:
    """The endpoint as ``endpoint_health`` shows it, or a 404 if it is not the user's."""
    endpoint = await endpoint_health.one(hub, user.organization_id, endpoint_id)
    if endpoint is None:
        raise Refused(404, "その受信設定はありません。 No such endpoint of yours.")
    return endpoint


async def _endpoint_page(
    request: Request,
    user: ConsoleUser,
    endpoint_id: str,
    *,
    new_secret: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    preview: Any = None,
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    endpoint = await _own_endpoint(hub, user, endpoint_id)
    test = None
    if test_id := request.query_params.get("test"):
        test = await endpoint_health.delivery(hub, user.organization_id, endpoint_id, test_id)
    shown = form or {
        **form_of(endpoint["filter"]),
        "label": endpoint["label"] or "",
        "active": "on" if endpoint["active"] else "",
    }
    return _page(
        request,
        "console_receiver.html",
        user,
        status=status,
        endpoint=endpoint,
        form=shown,
        new_secret=new_secret,
        notice=notice,
        error=error,
        preview=preview,
        test=test,
    )


@router.get("/{endpoint_id}", response_class=HTMLResponse)
async def endpoint_page(endpoint_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_receiver(user)
    return await _endpoint_page(request, user, endpoint_id)


@router.post("/{endpoint_id}", response_class=HTMLResponse)
async def edit(endpoint_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    caller = require_receiver(user)
    form = await checked_form(request, user)
    hub = hub_of(request)
    current = await _own_endpoint(hub, user, endpoint_id)
    document = filter_from_form(form, kept=current["filter"])
    try:
        if form.get("action") == "preview":
            shown = await _preview(hub, user, document)
            return await _endpoint_page(request, user, endpoint_id, form=form, preview=shown)
        body = {
            "filter": document,
            "label": form.get("label", "").strip()[:200] or None,
            "active": form.get("active") == "on",
        }
        _, queued = await endpoints.update(hub, caller, endpoint_id, body)
    except ProblemError as exc:
        return await _endpoint_page(
            request, user, endpoint_id, form=form, error=_said(request, exc), status=exc.status
        )
    tr = _tr(request)
    notice = tr("変更しました。", "Saved.")
    if queued is not None:
        notice += tr(f"停止中の情報 {queued} 件を送ります。", f" {queued} missed alert(s) queued.")
    return await _endpoint_page(request, user, endpoint_id, notice=notice)


@router.post("/{endpoint_id}/secret", response_class=HTMLResponse)
async def rotate(endpoint_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    caller = require_receiver(user)
    await checked_form(request, user)
    try:
        _, secret = await endpoints.rotate_secret(hub_of(request), caller, endpoint_id)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    notice = _tr(request)("署名用の秘密鍵を新しくしました。", "The signing secret was rotated.")
    return await _endpoint_page(request, user, endpoint_id, new_secret=secret, notice=notice)


@router.post("/{endpoint_id}/test")
async def send_test(endpoint_id: str, request: Request) -> Response:
    user = await signed_in(request)
    caller = require_receiver(user)
    await checked_form(request, user)
    hub = hub_of(request)
    try:
        await endpoints.own(hub, caller, endpoint_id)
        sent = await endpoints_ops.send_test(hub, caller.actor, endpoint_id)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    target = f"/console/receivers/{endpoint_id}?test={sent['delivery_id']}#test-outcome"
    return RedirectResponse(target, status_code=303)


@router.get("/{endpoint_id}/deliveries/{delivery_id}")
async def delivery_state(endpoint_id: str, delivery_id: str, request: Request) -> JSONResponse:
    """One delivery as JSON, for the page's script to follow a test delivery."""
    user = await signed_in(request)
    require_receiver(user)
    found = await endpoint_health.delivery(
        hub_of(request), user.organization_id, endpoint_id, delivery_id
    )
    if found is None:
        raise Refused(404, "その配信はありません。 No such delivery.")
    return JSONResponse(found, headers={"Cache-Control": "no-store"})
