"""Console sign-in, sign-out and password change: sessions in a cookie, CSRF tokens, lock-out
after repeated failures.

* The cookie holds a random secret; the database holds only its SHA-256 (like API tokens).
* Every sign-in makes a new session and ends the one the browser came with, so a session id
  planted before sign-in (session fixation) is worthless.
* Each session has its own CSRF token, required in every form that changes something; the
  sign-in form itself uses a double-submit cookie.
* At most ``Settings.login_max_failures`` passwords are checked per account in a window of
  ``login_lock_seconds`` fixed from its first failure: each attempt is counted in one conditional
  UPDATE *before* its password is checked, so parallel attempts cannot slip past the limit,
  and a right password once the limit is reached is refused without being checked. Attempts
  during a lock do not extend it. A wrong username costs the same time as a wrong password.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alertcommons import pools
from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.passwords import (
    WeakPassword,
    check_strength,
    dummy_hash,
    hash_password,
    verify_password,
)
from alertcommons.auth.sessions import SESSION_HOURS, ConsoleUser, LockOut, SignIn
from alertcommons.store import audit, users
from alertcommons.store.engine import Store

_JST = timezone(timedelta(hours=9))
# The same words for a wrong username and a wrong password: neither tells which it was.
WRONG_CREDENTIALS = "ユーザー名またはパスワードが違います。 Wrong username or password."


async def sign_in(
    store: Store,
    username: str,
    password: str,
    previous: str | None,
    lock_out: LockOut | None = None,
) -> SignIn:
    policy = lock_out or LockOut()
    now = datetime.now(UTC)
    user = await store.read(lambda c: users.by_username(c, username))
    if user is None or not user.active:
        await pools.run("passwords", verify_password, password, dummy_hash())
        await _audit(store, f"console/{username}", "login.failed", None, {"reason": "unknown"})
        return SignIn(error=WRONG_CREDENTIALS)
    attempt = await store.write(
        lambda c: users.reserve_attempt(
            c, user.id, now, limit=policy.max_failures, window=policy.window
        )
    )
    if attempt is None:
        until = await _locked_until(store, user.id, now)
        # not audited: refusing must stay as cheap as possible while an account is attacked
        # (the lock itself is recorded once, as login.locked)
        return SignIn(
            error=f"失敗が続いたため {until} までロックされています。"
            f" Locked after repeated failures until {until} (JST)."
        )
    if not await pools.run("passwords", verify_password, password, user.password_hash):
        await _audit(store, f"console/{username}", "login.failed", user.id, {"failures": attempt})
        if attempt >= policy.max_failures:
            await _audit(store, f"console/{username}", "login.locked", user.id, None)
            until = await _locked_until(store, user.id, now)
            return SignIn(
                error=f"{policy.max_failures} 回失敗したため {until} までロックしました。"
                f" Locked until {until} (JST) after {policy.max_failures} failures."
            )
        return SignIn(error=WRONG_CREDENTIALS)
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)

    def start(connection: Any) -> None:
        if previous:
            old = users.session_user(connection, previous, now)
            if old is not None:
                users.end_session(connection, old.session_id)
        users.refund_attempt(connection, user.id)
        users.create_session(
            connection, user.id, secret, csrf, now + timedelta(hours=SESSION_HOURS)
        )
        audit.append(
            connection,
            actor=f"{user.organization_id}/user:{user.id}",
            action="login",
            subject=user.id,
        )

    await store.write(start)
    return SignIn(secret=secret)


async def _locked_until(store: Store, user_id: str, now: datetime) -> str:
    """When the account's lock ends, as HH:MM in Japan time, for the refusal message."""
    row = await store.read(lambda c: users.get_user(c, user_id))
    return (row.locked_until or now).astimezone(_JST).strftime("%H:%M")


async def current_user(store: Store, secret: str | None) -> ConsoleUser | None:
    """The user whose session cookie holds ``secret``, while the session lasts."""
    if not secret:
        return None
    row = await store.read(lambda c: users.session_user(c, secret, datetime.now(UTC)))
    if row is None:
        return None
    return ConsoleUser(
        session_id=row.session_id,
        csrf_token=row.csrf_token,
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        roles=frozenset(row.roles.split(",")),
        organization_id=row.organization_id,
        organization_name=row.organization_name,
        organization_kind=row.kind,
        sender=row.sender,
        jurisdiction=Jurisdiction(frozenset(json.loads(row.jurisdiction))),
        two_person_approval=bool(row.two_person_approval),
    )


async def sign_out(store: Store, user: ConsoleUser) -> None:
    def end(connection: Any) -> None:
        users.end_session(connection, user.session_id)
        audit.append(
            connection,
            actor=f"{user.organization_id}/user:{user.user_id}",
            action="logout",
            subject=user.user_id,
        )

    await store.write(end)


async def _audit(
    store: Store, actor: str, action: str, subject: str | None, detail: dict[str, Any] | None
) -> None:
    await store.write(
        lambda c: audit.append(c, actor=actor, action=action, subject=subject, detail=detail)
    )


async def set_password(store: Store, user: ConsoleUser, current: str, new: str) -> str | None:
    """Change the user's password; end their other sessions. An error message, or None."""
    row = await store.read(lambda c: users.get_user(c, user.user_id))
    if row is None or not await pools.run("passwords", verify_password, current, row.password_hash):
        return "現在のパスワードが違います。 The current password is wrong."
    try:
        check_strength(new)
    except WeakPassword as exc:
        return f"新しいパスワードは12文字以上にしてください。 ({exc})"
    hashed = await pools.run("passwords", hash_password, new)

    def apply(connection: Any) -> None:
        users.set_password(connection, user.user_id, hashed)
        users.end_sessions_of(connection, user.user_id, keep=user.session_id)
        audit.append(
            connection,
            actor=f"{user.organization_id}/user:{user.user_id}",
            action="user.password",
            subject=user.user_id,
        )

    await store.write(apply)
    return None
