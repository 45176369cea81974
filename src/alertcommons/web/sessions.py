"""The console's cookies: the session cookie and the sign-in form's double-submit cookie.

The session rules are in ``auth/sessions.py``; signing in and out in ``hub/sessions.py``.
"""

from __future__ import annotations

from fastapi import Request

from alertcommons.auth.sessions import SESSION_HOURS, ConsoleUser, LockOut, csrf_ok
from alertcommons.hub import sessions
from alertcommons.hub.sessions import set_password, sign_in, sign_out
from alertcommons.store.engine import Store

COOKIE = "ac_session"
LOGIN_CSRF_COOKIE = "ac_login_csrf"

__all__ = [
    "COOKIE",
    "LOGIN_CSRF_COOKIE",
    "SESSION_HOURS",
    "ConsoleUser",
    "LockOut",
    "csrf_ok",
    "current_user",
    "set_password",
    "sign_in",
    "sign_out",
]


async def current_user(store: Store, request: Request) -> ConsoleUser | None:
    return await sessions.current_user(store, request.cookies.get(COOKIE))
