"""Organizations, their tokens and console accounts: each change once, with its audit record.

Shared by the API (``api/organizations.py``) and the console's admin pages (``web/admin.py``).
A change that can alter who a token belongs to, or what it may do, clears the principal cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from alertcommons import pools
from alertcommons.auth.passwords import WeakPassword, check_strength, hash_password
from alertcommons.auth.principal import roles_for_kind
from alertcommons.hub import accounts
from alertcommons.hub.services import Services
from alertcommons.problems import Conflict, NotFound, Unprocessable
from alertcommons.store import audit, orgs, users


def _no_org(org_id: str) -> NotFound:
    return NotFound(f"no organization with id '{org_id}'")


async def get(hub: Services, org_id: str) -> Any:
    row = await hub.store.read(lambda c: orgs.get_org(c, org_id))
    if row is None:
        raise _no_org(org_id)
    return row


async def create(
    hub: Services,
    actor: str,
    *,
    name: str,
    kind: str,
    sender: str | None,
    jurisdiction: list[str],
) -> dict[str, Any]:
    """A new organization and its first token (the token's secret is in the answer)."""

    def apply(connection: Connection) -> dict[str, Any]:
        org_id = orgs.create_org(
            connection, name=name, kind=kind, sender=sender, jurisdiction=jurisdiction
        )
        token = orgs.issue_token(connection, org_id, roles_for_kind(kind), label="initial")
        audit.append(
            connection,
            actor=actor,
            action="org.create",
            subject=org_id,
            detail={
                "name": name,
                "kind": kind,
                "sender": sender,
                "jurisdiction": jurisdiction,
                "token_id": token.id,
            },
        )
        record = orgs.org_to_dict(orgs.get_org(connection, org_id))
        return {**record, "token": token.token, "token_id": token.id}

    try:
        return await hub.store.write(apply)
    except IntegrityError:
        raise Conflict(f"another organization already publishes as sender '{sender}'") from None


async def update(hub: Services, actor: str, org_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, sender, jurisdiction, active or two-person approval (already checked)."""

    def apply(connection: Connection) -> dict[str, Any]:
        if orgs.get_org(connection, org_id) is None:
            raise _no_org(org_id)
        orgs.update_org(connection, org_id, changes)
        audit.append(connection, actor=actor, action="org.update", subject=org_id, detail=changes)
        return orgs.org_to_dict(orgs.get_org(connection, org_id))

    try:
        updated = await hub.store.write(apply)
    except IntegrityError:
        raise Conflict(
            f"another organization already publishes as '{changes.get('sender')}'"
        ) from None
    hub.principals.clear()  # jurisdiction, sender or active may have changed
    return updated


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str
    token: str  # the secret, shown this once
    organization_id: str


async def issue_token(hub: Services, actor: str, org_id: str, label: str | None) -> IssuedToken:
    def apply(connection: Connection) -> IssuedToken:
        organization = orgs.get_org(connection, org_id)
        if organization is None:
            raise _no_org(org_id)
        kind = organization.kind
        roles = ("admin",) if kind == "operator" else roles_for_kind(kind)
        token = orgs.issue_token(connection, org_id, roles, label=label)
        audit.append(
            connection,
            actor=actor,
            action="token.create",
            subject=token.id,
            detail={"organization_id": org_id, "label": label},
        )
        return IssuedToken(token.id, token.token, org_id)

    return await hub.store.write(apply)


async def revoke_token(hub: Services, actor: str, org_id: str, token_id: str) -> None:
    def apply(connection: Connection) -> None:
        token = orgs.get_token(connection, token_id)
        if token is None or token.organization_id != org_id:
            raise NotFound(f"organization '{org_id}' has no token '{token_id}'")
        orgs.revoke_token(connection, token_id)
        audit.append(
            connection,
            actor=actor,
            action="token.revoke",
            subject=token_id,
            detail={"organization_id": org_id},
        )

    await hub.store.write(apply)
    hub.principals.clear()


async def checked_password_hash(password: str) -> str:
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise Unprocessable(str(exc), path="password") from None
    return await pools.run("passwords", hash_password, password)


async def create_user(
    hub: Services,
    actor: str,
    org_id: str,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: list[str],
) -> dict[str, Any]:
    """A console account of the organization."""
    organization = await get(hub, org_id)
    accounts.check_roles(organization.kind, roles)
    password_hash = await checked_password_hash(password)

    def apply(connection: Connection) -> dict[str, Any]:
        user_id = users.create_user(
            connection,
            organization_id=org_id,
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            roles=list(dict.fromkeys(roles)),
        )
        audit.append(
            connection,
            actor=actor,
            action="user.create",
            subject=user_id,
            detail={"organization_id": org_id, "username": username, "roles": roles},
        )
        return {"id": user_id, "username": username, "organization_id": org_id}

    try:
        return await hub.store.write(apply)
    except IntegrityError:
        raise Conflict(f"the username '{username}' is taken") from None


async def update_user(
    hub: Services,
    actor: str,
    org_id: str,
    user_id: str,
    *,
    active: bool | None = None,
    roles: list[str] | None = None,
    display_name: str | None = None,
) -> Any:
    """Disable or enable an account, change its roles or name; the changed row."""
    return await hub.store.write(
        lambda c: accounts.update(
            c, actor, org_id, user_id, active=active, roles=roles, display_name=display_name
        )
    )


async def end_user_sessions(hub: Services, actor: str, org_id: str, user_id: str) -> int:
    """Sign an account out everywhere; how many sessions ended."""
    return await hub.store.write(lambda c: accounts.end_sessions(c, actor, org_id, user_id))


async def reset_password(
    hub: Services, actor: str, org_id: str, user_id: str, password: str | None
) -> tuple[Any, str, int]:
    """Set a new password (made here when none is given), end every session, lift a lock.

    Answers the account's row, the password (to show once) and how many sessions ended.
    """
    row = await hub.store.read(lambda c: accounts.find(c, org_id, user_id))
    new = password or accounts.temporary_password()
    hashed = await checked_password_hash(new)
    ended = await hub.store.write(
        lambda c: accounts.reset_password(c, actor, org_id, user_id, hashed)
    )
    return row, new, ended
