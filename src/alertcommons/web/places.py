"""The console's page for a municipality's registered districts and designated shelters
(/console/places): upload the files, see what is registered, and — when a file has problems —
every problem with its line, in the console's language. The import itself is the hub's
(``hub/places.py``), the same as the API's and the command line's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from alertcommons.hub import places
from alertcommons.hub.places import ImportRefused
from alertcommons.hub.services import Services
from alertcommons.jp.codes import CodeError, normalize
from alertcommons.jp.romaji import place as romaji_place
from alertcommons.jp.site_columns import HAZARDS, KINDS
from alertcommons.problems import ProblemError
from alertcommons.store import places as place_queries

from . import compose, compose_places, words
from .guard import Refused, checked_form, hub_of, render, signed_in
from .sessions import ConsoleUser

router = APIRouter(prefix="/console/places", include_in_schema=False)

WHAT = {
    "districts": ("地区", "districts"),
    "shelters": ("指定緊急避難場所・指定避難所", "designated sites and shelters"),
}


def _may_import(user: ConsoleUser) -> None:
    if not (user.is_issuer or user.is_admin):
        raise Refused(403, "この画面は発信機関の担当者用です。 Issuers only.")


def _choices(user: ConsoleUser) -> list[tuple[str, str]]:
    """The municipalities the user may import for: the jurisdiction's, or any for an admin
    or a national issuer (who type the code)."""
    return compose.municipality_choices(user)


def _code(user: ConsoleUser, given: str | None, choices: list[tuple[str, str]]) -> str | None:
    text = given or (choices[0][0] if choices else "")
    try:
        canonical = normalize(text) if text else None
    except CodeError:
        return None
    return canonical if canonical is not None and len(canonical) == 5 else None


async def _page(
    request: Request,
    user: ConsoleUser,
    code: str | None,
    *,
    status: int = 200,
    errors: list[dict[str, Any]] | None = None,
    failed: str | None = None,
    message: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    hub = hub_of(request)
    registered: dict[str, Any] = {"districts": [], "sites": []}
    if code is not None:
        registered = await hub.store.read(
            lambda c: {
                "districts": place_queries.districts(c, code),
                "sites": place_queries.sites(c, code),
            }
        )
    choices = _choices(user)
    english = words.console_language(request) == "en"
    return render(
        request,
        "console_places.html",
        user,
        status=status,
        municipalities=choices,
        # the English console names municipalities in romaji, as compose does
        names_en={c: romaji_place(c).split(",")[0] for c, _ in choices} if english else {},
        code=code,
        registered=registered,
        errors=errors,
        failed=failed,
        message=message,
        notice=notice,
        what=WHAT,
        kinds=KINDS,
        hazard_names=HAZARDS,
    )


@router.get("", response_class=HTMLResponse)
async def places_page(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    _may_import(user)
    choices = _choices(user)
    return await _page(
        request,
        user,
        _code(user, request.query_params.get("municipality"), choices),
        notice=_notice(request.query_params.get("imported")),
    )


def _notice(given: str | None) -> str | None:
    """The redirect's ``imported=districts-8``, or None: the notice never shows words a link
    brought with it (a forged "re-login at …" in the officer's console)."""
    what, _, count = (given or "").partition("-")
    return given if what in WHAT and count.isascii() and count.isdigit() else None


@router.get("/choices")
async def compose_choices(request: Request) -> JSONResponse:
    """A municipality's registered districts (with outlines) and sites as compose offers them,
    for compose's script to redraw its lists and map when another municipality is chosen."""
    user = await signed_in(request)
    _may_import(user)
    form = {"municipality": request.query_params.get("municipality", "")}
    found = compose_places.choices(hub_of(request), form, [])
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


@router.post("/{what}", response_class=HTMLResponse)
async def import_file(what: str, request: Request) -> Response:
    user = await signed_in(request)
    _may_import(user)
    if what not in WHAT:
        raise Refused(404, "そのページはありません。 No such page.")
    form = await checked_form(request, user)
    upload = (await request.form()).get("file")
    choices = _choices(user)
    code = _code(user, form.get("municipality"), choices)
    if code is None:
        return await _page(
            request,
            user,
            None,
            status=422,
            failed=what,
            message=_tr(request)(
                "市区町村コードが正しくありません。", "The municipality code is not valid."
            ),
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(
            request,
            user,
            code,
            status=422,
            failed=what,
            message=_tr(request)("ファイルを選んでください。", "Choose a file."),
        )
    data = await upload.read()
    hub = hub_of(request)
    try:
        outcome = await _import(hub, user, what, code, data, upload, form.get("kind") or None)
    except ImportRefused as exc:
        errors = exc.extensions.get("errors", [])
        return await _page(request, user, code, status=422, failed=what, errors=errors)
    except ProblemError as exc:
        return await _page(
            request, user, code, status=exc.status, failed=what, message=_said(request, exc)
        )
    target = f"/console/places?municipality={code}&imported={what}-{outcome.imported}"
    return RedirectResponse(target, status_code=303)


def _tr(request: Request) -> Callable[[str, str], str]:
    return words.chooser(words.console_language(request))


def _said(request: Request, exc: ProblemError) -> str:
    return words.error_text(exc, words.console_language(request))


async def _import(
    hub: Services,
    user: ConsoleUser,
    what: str,
    code: str,
    data: bytes,
    upload: UploadFile,
    kind: str | None,
) -> places.Imported:
    if what == "districts":
        return await places.import_districts(hub, user.principal(), code, data)
    if kind not in (None, *KINDS):
        kind = None
    name = (upload.filename or "").lower()
    content_type = (
        "application/json" if name.endswith((".json", ".geojson")) else upload.content_type or ""
    )
    return await places.import_sites(hub, user.principal(), code, data, content_type, kind)
