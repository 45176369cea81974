"""Console accounts: create, disable or enable, end sessions, reset the password, change roles.

One place for each change and its audit record, shared by the API (``api/organizations.py``),
the console's admin pages (``web/admin.py``) and the command line (``commands/users.py``).
Each function runs inside the caller's write transaction.

* Disabling an account ends its sessions at once (a disabled account's cookie is also
  refused on every request, see ``store/users.session_user``).
* A password reset ends every session and lifts a lock-out.
* Roles take effect on the next request (sessions read them from the database).
* The last enabled admin account cannot be disabled or lose ``admin``: someone must be able
  to sign in and repair things.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection

from alertcommons.problems import Conflict, NotFound, Unprocessable
from alertcommons.store import audit, orgs, users


def check_roles(kind: str, roles: list[str]) -> list[str]:
    """The roles, de-duplicated, if an organization of this kind may give them."""
    wanted = list(dict.fromkeys(role.strip() for role in roles if role.strip()))
    unknown = sorted(set(wanted) - set(users.ROLES))
    if not wanted or unknown:
        raise Unprocessable(
            f"roles are {', '.join(users.ROLES)}"
            + (f"; not {', '.join(unknown)}" if unknown else "; give at least one"),
            path="roles",
        )
    if "admin" in wanted and kind != "operator":
        raise Unprocessable("only an operator organization's accounts can be admins", path="roles")
    if kind == "receiver" and ("drafter" in wanted or "approver" in wanted):
        raise Unprocessable(
            "a receiver organization does not draft or approve alerts", path="roles"
        )
    return wanted


def account(row: Any, max_failures: int) -> dict[str, Any]:
    """An account as the API shows it (never its password hash)."""
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "username": row.username,
        "display_name": row.display_name,
        "roles": row.roles.split(","),
        "active": bool(row.active),
        "locked": users.is_locked(row, max_failures),
    }


def find(connection: Connection, org_id: str | None, user_id: str) -> Any:
    """The account, which must belong to ``org_id`` when one is given."""
    row = users.get_user(connection, user_id)
    if row is None or (org_id is not None and row.organization_id != org_id):
        raise NotFound(f"no account '{user_id}'" + (f" in '{org_id}'" if org_id else ""))
    return row


def find_by_username(connection: Connection, username: str) -> Any:
    row = users.by_username(connection, username)
    if row is None:
        raise NotFound(f"no account '{username}'")
    return row


def update(
    connection: Connection,
    actor: str,
    org_id: str | None,
    user_id: str,
    *,
    active: bool | None = None,
    roles: list[str] | None = None,
    display_name: str | None = None,
) -> Any:
    """Change an account; the row as it is now."""
    row = find(connection, org_id, user_id)
    organization = orgs.get_org(connection, row.organization_id)
    changes: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    if roles is not None:
        checked = check_roles(organization.kind if organization else "", roles)
        changes["roles"] = shown["roles"] = ",".join(checked)
        shown["roles"] = checked
    if active is not None:
        changes["active"] = shown["active"] = active
    if display_name is not None:
        changes["display_name"] = shown["display_name"] = display_name
    if not changes:
        raise Unprocessable("nothing to change: give active, roles or display_name")
    _keep_an_admin(connection, row, changes)
    users.update_user(connection, row.id, changes)
    ended = users.end_sessions_of(connection, row.id) if active is False else 0
    _audit(connection, actor, "user.update", row, **shown, sessions_ended=ended)
    return users.get_user(connection, row.id)


def end_sessions(connection: Connection, actor: str, org_id: str | None, user_id: str) -> int:
    """Sign the account out everywhere; how many sessions ended."""
    row = find(connection, org_id, user_id)
    ended = users.end_sessions_of(connection, row.id)
    _audit(connection, actor, "user.sessions.end", row, ended=ended)
    return ended


def reset_password(
    connection: Connection, actor: str, org_id: str | None, user_id: str, password_hash: str
) -> int:
    """Set a new password (hashed by the caller, off the event loop), lift any lock-out and
    end every session; how many sessions ended."""
    row = find(connection, org_id, user_id)
    users.set_password(connection, row.id, password_hash)
    ended = users.end_sessions_of(connection, row.id)
    _audit(connection, actor, "user.password.reset", row, ended=ended)
    return ended


def _audit(connection: Connection, actor: str, action: str, row: Any, **detail: Any) -> None:
    """The audit record of a change to an account, naming whose account it is."""
    audit.append(
        connection,
        actor=actor,
        action=action,
        subject=row.id,
        detail={"organization_id": row.organization_id, "username": row.username, **detail},
    )


def temporary_password() -> str:
    """A password for a reset when none is given: shown once, to be changed at sign-in."""
    return secrets.token_urlsafe(15)


def _keep_an_admin(connection: Connection, row: Any, changes: dict[str, Any]) -> None:
    if not row.active or "admin" not in row.roles.split(","):
        return
    loses = changes.get("active") is False or (
        "roles" in changes and "admin" not in str(changes["roles"]).split(",")
    )
    if loses and users.active_admins(connection) == [row.id]:
        raise Conflict(
            f"'{row.username}' is the last enabled admin account: it cannot be disabled or"
            " lose the admin role"
        )
