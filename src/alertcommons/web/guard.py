"""What every console page needs: the signed-in user, CSRF-checked forms, role checks, and
pages for refusals (HTML, in both languages, with the right status)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alertcommons.cap.jsonmap import NOT_XML
from alertcommons.hub.services import Services

from . import compose, words
from .render import page
from .sessions import ConsoleUser, csrf_ok, current_user


class LoginRequired(Exception):
    pass


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def install_handlers(app: FastAPI) -> None:
    async def to_login(request: Request, exc: Exception) -> Response:
        if request.method == "GET":
            target = "/console/login?" + urlencode({"next": request.url.path})
            return RedirectResponse(target, status_code=303)
        return error_page(request, 401, "サインインしてください。 Please sign in.")

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return error_page(request, exc.status, exc.message)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(Refused, refused)


def hub_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


# "日本語の文。 English sentence." -> the half in the page's language
_BILINGUAL = re.compile(r"^(.*[\u3040-\u30ff\u4e00-\u9fff。）」].*?)\s+([A-Z(].*[A-Za-z.)])$")


def one_language(message: str, lang: str) -> str:
    """A refusal written as "日本語。 English." in the page's language alone."""
    found = _BILINGUAL.match(message.strip())
    if found is None:
        return words.translate(message, lang)
    return found[1] if lang == "ja" else found[2]


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    lang = words.console_language(request)
    response = page(
        request,
        hub_of(request).settings,
        "console_error.html",
        {
            "lang": lang,
            "tr": words.chooser(lang),
            "message": one_language(message, lang),
            "status": status,
            "user": None,
        },
        status=status,
    )
    words.remember(request, response)
    return response


async def signed_in(request: Request) -> ConsoleUser:
    user = await current_user(hub_of(request).store, request)
    if user is None:
        raise LoginRequired
    return user


async def checked_form(request: Request, user: ConsoleUser | None) -> dict[str, str]:
    """The posted form, after checking its CSRF token against the session's."""
    raw = await request.form()
    form = {key: str(value) for key, value in raw.items() if isinstance(value, str)}
    if user is None or not csrf_ok(user.csrf_token, form.get("csrf_token")):
        raise Refused(
            403, "フォームの有効期限が切れました。もう一度お試しください。 (CSRF check failed)"
        )
    for name, value in form.items():
        if NOT_XML.search(value):
            raise Refused(
                422,
                f"'{name}' に使えない文字（制御文字）があります。 Control characters in '{name}'.",
            )
    return form


def require_issuer(user: ConsoleUser) -> None:
    if not user.is_issuer:
        raise Refused(403, "この画面は発信機関の担当者用です。 Issuers only.")


def require_admin(user: ConsoleUser) -> None:
    if not user.is_admin:
        raise Refused(403, "この画面は運用管理者用です。 Administrators only.")


def render(
    request: Request, view: str, user: ConsoleUser | None, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = words.console_language(request)
    response = page(
        request,
        hub_of(request).settings,
        view,
        {
            "lang": lang,
            "tr": words.chooser(lang),
            "translate": lambda detail: words.translate(detail, lang),
            "user": user,
            "templates": compose.templates_for(user) if user else compose.TEMPLATES,
            **context,
        },
        status=status,
    )
    words.remember(request, response)
    return response


def is_secure(request: Request) -> bool:
    public = hub_of(request).settings.public_url or ""
    return public.startswith("https:") or request.url.scheme == "https"
