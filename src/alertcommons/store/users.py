"""Console users, their sessions, and drafts awaiting a second person's approval."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, insert, or_, select, update

from alertcommons.store.ids import new_id
from alertcommons.store.schema import drafts, organizations, sessions, users
from alertcommons.store.tokens import hash_token

ROLES = ("drafter", "approver", "admin", "viewer")


def create_user(
    connection: Connection,
    *,
    organization_id: str,
    username: str,
    display_name: str,
    password_hash: str,
    roles: list[str],
) -> str:
    user_id = new_id()
    connection.execute(
        insert(users).values(
            id=user_id,
            organization_id=organization_id,
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            roles=",".join(roles),
            active=True,
            failed_logins=0,
            created_at=datetime.now(UTC),
        )
    )
    return user_id


def by_username(connection: Connection, username: str) -> Any:
    return connection.execute(select(users).where(users.c.username == username)).first()


def get_user(connection: Connection, user_id: str) -> Any:
    return connection.execute(select(users).where(users.c.id == user_id)).first()


def users_of(connection: Connection, organization_id: str) -> list[Any]:
    query = select(users).where(users.c.organization_id == organization_id).order_by(users.c.id)
    return list(connection.execute(query))


def reserve_attempt(
    connection: Connection, user_id: str, now: datetime, *, limit: int, window: timedelta
) -> int | None:
    """Count a sign-in attempt before its password is checked; its number, or None if locked.

    One conditional UPDATE does the increment and the check, so parallel attempts cannot
    read the same count and all pass: at most ``limit`` passwords are ever checked in a
    window. The window is fixed from its first attempt (``locked_until`` is its end) and is
    never pushed later by attempts made during it, so a lock always ends.
    """
    fresh = or_(users.c.locked_until.is_(None), users.c.locked_until <= now)
    result = connection.execute(
        update(users)
        .where(users.c.id == user_id, or_(fresh, users.c.failed_logins < limit))
        .values(
            failed_logins=case((fresh, 1), else_=users.c.failed_logins + 1),
            locked_until=case(
                (fresh, bindparam("window_end", now + window, type_=users.c.locked_until.type)),
                else_=users.c.locked_until,
            ),
        )
        .returning(users.c.failed_logins)
    )
    attempt = result.scalar()
    return int(attempt) if attempt is not None else None


def refund_attempt(connection: Connection, user_id: str) -> None:
    """The attempt had the right password: it is no failure. Failures of others stay counted
    (a parallel success must not wipe them) until their window ends."""
    connection.execute(
        update(users)
        .where(users.c.id == user_id, users.c.failed_logins > 0)
        .values(
            failed_logins=users.c.failed_logins - 1,
            locked_until=case((users.c.failed_logins <= 1, None), else_=users.c.locked_until),
        )
    )


def is_locked(row: Any, limit: int, now: datetime | None = None) -> bool:
    """A user row locked out: ``limit`` failures in a window that has not ended."""
    moment = now or datetime.now(UTC)
    return bool(
        row.failed_logins >= limit and row.locked_until is not None and row.locked_until > moment
    )


def create_session(
    connection: Connection, user_id: str, secret: str, csrf_token: str, expires_at: datetime
) -> str:
    session_id = new_id()
    connection.execute(
        insert(sessions).values(
            id=session_id,
            token_hash=hash_token(secret),
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
    )
    return session_id


def session_user(connection: Connection, secret: str, now: datetime) -> Any:
    """The live session for a cookie value, with its user and organization, or None."""
    query = (
        select(
            sessions.c.id.label("session_id"),
            sessions.c.csrf_token,
            users.c.id.label("user_id"),
            users.c.username,
            users.c.display_name,
            users.c.roles,
            organizations.c.id.label("organization_id"),
            organizations.c.name.label("organization_name"),
            organizations.c.kind,
            organizations.c.sender,
            organizations.c.jurisdiction,
            organizations.c.two_person_approval,
        )
        .join(users, users.c.id == sessions.c.user_id)
        .join(organizations, organizations.c.id == users.c.organization_id)
        .where(
            sessions.c.token_hash == hash_token(secret),
            sessions.c.expires_at > now,
            users.c.active.is_(True),
            organizations.c.active.is_(True),
        )
    )
    return connection.execute(query).first()


def end_session(connection: Connection, session_id: str) -> None:
    connection.execute(delete(sessions).where(sessions.c.id == session_id))


def end_sessions_of(connection: Connection, user_id: str, keep: str | None = None) -> int:
    """End the user's sessions, all but ``keep`` (the one changing the password); how many."""
    condition = sessions.c.user_id == user_id
    if keep is not None:
        condition = condition & (sessions.c.id != keep)
    return int(connection.execute(delete(sessions).where(condition)).rowcount or 0)


def update_user(connection: Connection, user_id: str, values: dict[str, Any]) -> None:
    connection.execute(update(users).where(users.c.id == user_id).values(**values))


def active_admins(connection: Connection) -> list[str]:
    """Ids of the enabled admin accounts (admins belong to operator organizations)."""
    query = select(users.c.id, users.c.roles).where(users.c.active.is_(True))
    return [row.id for row in connection.execute(query) if "admin" in row.roles.split(",")]


def set_password(connection: Connection, user_id: str, password_hash: str) -> None:
    connection.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, failed_logins=0, locked_until=None)
    )


def create_draft(
    connection: Connection,
    *,
    organization_id: str,
    created_by: str,
    template: str,
    form: dict[str, Any],
    summary: str,
) -> str:
    draft_id = new_id()
    connection.execute(
        insert(drafts).values(
            id=draft_id,
            organization_id=organization_id,
            created_by=created_by,
            template=template,
            form=json.dumps(form, ensure_ascii=False),
            summary=summary,
            state="pending",
            created_at=datetime.now(UTC),
        )
    )
    return draft_id


def get_draft(connection: Connection, draft_id: str) -> Any:
    return connection.execute(select(drafts).where(drafts.c.id == draft_id)).first()


def pending_drafts(connection: Connection, organization_id: str) -> list[Any]:
    query = (
        select(drafts, users.c.display_name.label("author"))
        .join(users, users.c.id == drafts.c.created_by)
        .where(drafts.c.organization_id == organization_id, drafts.c.state == "pending")
        .order_by(drafts.c.created_at.desc())
    )
    return list(connection.execute(query))


def decide_draft(
    connection: Connection, draft_id: str, user_id: str, state: str, alert_id: str | None
) -> bool:
    """Mark a pending draft decided; False if someone else decided it first."""
    result = connection.execute(
        update(drafts)
        .where(drafts.c.id == draft_id, drafts.c.state == "pending")
        .values(state=state, decided_by=user_id, decided_at=datetime.now(UTC), alert_id=alert_id)
    )
    return bool(result.rowcount)


def reopen_draft(connection: Connection, draft_id: str) -> None:
    """Back to pending: publishing the approved draft failed."""
    connection.execute(
        update(drafts).where(drafts.c.id == draft_id).values(state="pending", decided_by=None)
    )


def finish_draft(connection: Connection, draft_id: str, user_id: str, alert_id: str) -> None:
    connection.execute(
        update(drafts)
        .where(drafts.c.id == draft_id)
        .values(state="published", decided_by=user_id, alert_id=alert_id)
    )
