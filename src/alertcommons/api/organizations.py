"""/api/v1/organizations: issuers and receivers, their jurisdictions and tokens (admin)."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from alertcommons import pools
from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal, roles_for_kind
from alertcommons.jp.codes import CodeError
from alertcommons.jp.phrases import LANGUAGES, wanted
from alertcommons.problems import Conflict, Forbidden, NotFound, Unprocessable
from alertcommons.store import audit, orgs, users
from alertcommons.web.passwords import WeakPassword, check_strength, hash_password

from .deps import AdminDep, PrincipalDep, ServicesDep

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])
me_router = APIRouter(prefix="/api/v1/me", tags=["organizations"])

_SENDER = re.compile(r"^[^\s,<&]+$")
Kind = Literal["issuer", "receiver", "both"]


class OrganizationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    sender: str | None = Field(default=None, max_length=200)
    jurisdiction: list[str] = Field(default_factory=list, max_length=2000)


class OrganizationPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    sender: str | None = Field(default=None, max_length=200)
    jurisdiction: list[str] | None = Field(default=None, max_length=2000)
    active: bool | None = None
    two_person_approval: bool | None = Field(
        default=None, description="console drafts need a second person's approval"
    )
    languages: list[str] | None = Field(
        default=None,
        max_length=20,
        description="languages of its standard messages (ja-JP always); null: every one",
    )


class TokenIn(BaseModel):
    label: str | None = Field(default=None, max_length=200)


def _checked_jurisdiction(codes: list[str]) -> list[str]:
    try:
        return Jurisdiction.parse(codes).as_list()
    except CodeError as exc:
        raise Unprocessable(str(exc), path="jurisdiction") from None


def _checked_languages(languages: list[str]) -> list[str]:
    for number, language in enumerate(languages):
        if language not in LANGUAGES:
            raise Unprocessable(
                f"'{language}' is not a language the hub writes: {', '.join(LANGUAGES)}",
                path=f"languages/{number}",
            )
    return list(wanted(tuple(languages)))


def _checked_sender(sender: str | None) -> str | None:
    if sender is not None and not _SENDER.match(sender):
        raise Unprocessable("a CAP sender has no spaces, commas, '<' or '&'", path="sender")
    return sender


@router.post("", status_code=201, summary="Create an organization and its first token")
async def create_organization(
    body: OrganizationIn, hub: ServicesDep, caller: AdminDep, response: Response
) -> dict[str, Any]:
    jurisdiction = _checked_jurisdiction(body.jurisdiction)
    sender = _checked_sender(body.sender)
    if body.kind in ("issuer", "both") and (sender is None or not jurisdiction):
        raise Unprocessable("an issuer needs a 'sender' and a non-empty 'jurisdiction'")

    def create(connection: Connection) -> dict[str, Any]:
        org_id = orgs.create_org(
            connection, name=body.name, kind=body.kind, sender=sender, jurisdiction=jurisdiction
        )
        token = orgs.issue_token(connection, org_id, roles_for_kind(body.kind), label="initial")
        audit.append(
            connection,
            actor=caller.actor,
            action="org.create",
            subject=org_id,
            detail={
                "name": body.name,
                "kind": body.kind,
                "sender": sender,
                "jurisdiction": jurisdiction,
                "token_id": token.id,
            },
        )
        record = orgs.org_to_dict(orgs.get_org(connection, org_id))
        return {**record, "token": token.token, "token_id": token.id}

    try:
        created = await hub.store.write(create)
    except IntegrityError:
        raise Conflict(f"another organization already publishes as sender '{sender}'") from None
    response.headers["Location"] = f"/api/v1/organizations/{created['id']}"
    return created


@router.get("", summary="All organizations")
async def list_organizations(hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    rows = await hub.store.read(orgs.list_orgs)
    return {"items": [orgs.org_to_dict(row) for row in rows]}


def _own_or_admin(caller: Principal, org_id: str) -> None:
    if not caller.is_admin and caller.organization_id != org_id:
        raise Forbidden("you can only see your own organization")


async def _org(hub: Any, org_id: str) -> Any:
    row = await hub.store.read(lambda c: orgs.get_org(c, org_id))
    if row is None:
        raise NotFound(f"no organization with id '{org_id}'")
    return row


@router.get("/{org_id}", summary="One organization")
async def get_organization(org_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _own_or_admin(caller, org_id)
    return orgs.org_to_dict(await _org(hub, org_id))


@router.patch(
    "/{org_id}",
    summary="Change name, sender, jurisdiction, active, two-person approval or languages",
)
async def update_organization(
    org_id: str, body: OrganizationPatch, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    await _org(hub, org_id)
    changes = body.model_dump(exclude_unset=True)
    if "jurisdiction" in changes:
        changes["jurisdiction"] = _checked_jurisdiction(changes["jurisdiction"] or [])
    if "sender" in changes:
        changes["sender"] = _checked_sender(changes["sender"])
    if changes.get("languages") is not None:
        changes["languages"] = _checked_languages(changes["languages"])
    if not changes:
        raise Unprocessable(
            "nothing to change: give name, sender, jurisdiction, active, two_person_approval"
            " or languages"
        )

    def apply(connection: Connection) -> dict[str, Any]:
        orgs.update_org(connection, org_id, changes)
        audit.append(
            connection, actor=caller.actor, action="org.update", subject=org_id, detail=changes
        )
        return orgs.org_to_dict(orgs.get_org(connection, org_id))

    try:
        updated = await hub.store.write(apply)
        hub.principals.clear()  # jurisdiction, sender or active may have changed
        return updated
    except IntegrityError:
        raise Conflict(
            f"another organization already publishes as '{changes.get('sender')}'"
        ) from None


@router.get("/{org_id}/tokens", summary="The organization's tokens (never their secrets)")
async def list_tokens(org_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _own_or_admin(caller, org_id)
    await _org(hub, org_id)
    rows = await hub.store.read(lambda c: orgs.list_tokens(c, org_id))
    return {"items": [orgs.token_to_dict(row) for row in rows]}


@router.post("/{org_id}/tokens", status_code=201, summary="Issue a new token (shown once)")
async def issue_token(
    org_id: str, body: TokenIn, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    row = await _org(hub, org_id)

    def issue(connection: Connection) -> dict[str, Any]:
        roles = ("admin",) if row.kind == "operator" else roles_for_kind(row.kind)
        token = orgs.issue_token(connection, org_id, roles, label=body.label)
        audit.append(
            connection,
            actor=caller.actor,
            action="token.create",
            subject=token.id,
            detail={"organization_id": org_id, "label": body.label},
        )
        return {"id": token.id, "token": token.token, "organization_id": org_id}

    return await hub.store.write(issue)


@router.delete("/{org_id}/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def revoke_token(
    org_id: str, token_id: str, hub: ServicesDep, caller: PrincipalDep
) -> Response:
    _own_or_admin(caller, org_id)
    token = await hub.store.read(lambda c: orgs.get_token(c, token_id))
    if token is None or token.organization_id != org_id:
        raise NotFound(f"organization '{org_id}' has no token '{token_id}'")

    def revoke(connection: Connection) -> None:
        orgs.revoke_token(connection, token_id)
        audit.append(
            connection,
            actor=caller.actor,
            action="token.revoke",
            subject=token_id,
            detail={"organization_id": org_id},
        )

    await hub.store.write(revoke)
    hub.principals.clear()
    return Response(status_code=204)


class UserIn(BaseModel):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    roles: list[Literal["drafter", "approver", "admin", "viewer"]] = Field(
        min_length=1, max_length=4
    )


@router.post("/{org_id}/users", status_code=201, summary="Create a console account")
async def create_user(
    org_id: str, body: UserIn, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    row = await _org(hub, org_id)
    if "admin" in body.roles and row.kind != "operator":
        raise Unprocessable("only an operator organization's accounts can be admins", path="roles")
    if row.kind == "receiver" and ("drafter" in body.roles or "approver" in body.roles):
        raise Unprocessable("a receiver organization does not draft or approve alerts")
    try:
        check_strength(body.password)
    except WeakPassword as exc:
        raise Unprocessable(str(exc), path="password") from None
    password_hash = await pools.run("passwords", hash_password, body.password)

    def create(connection: Connection) -> dict[str, Any]:
        user_id = users.create_user(
            connection,
            organization_id=org_id,
            username=body.username,
            display_name=body.display_name,
            password_hash=password_hash,
            roles=list(dict.fromkeys(body.roles)),
        )
        audit.append(
            connection,
            actor=caller.actor,
            action="user.create",
            subject=user_id,
            detail={"organization_id": org_id, "username": body.username, "roles": body.roles},
        )
        return {"id": user_id, "username": body.username, "organization_id": org_id}

    try:
        return await hub.store.write(create)
    except IntegrityError:
        raise Conflict(f"the username '{body.username}' is taken") from None


@router.get("/{org_id}/users", summary="The organization's console accounts")
async def list_users(org_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _own_or_admin(caller, org_id)
    await _org(hub, org_id)
    rows = await hub.store.read(lambda c: users.users_of(c, org_id))
    return {
        "items": [
            {
                "id": r.id,
                "username": r.username,
                "display_name": r.display_name,
                "roles": r.roles.split(","),
                "active": bool(r.active),
                "locked": users.is_locked(r, hub.settings.login_max_failures),
            }
            for r in rows
        ]
    }


@me_router.get("", summary="Who the presented token belongs to")
async def whoami(caller: PrincipalDep) -> dict[str, Any]:
    return {
        "organization_id": caller.organization_id,
        "organization_name": caller.organization_name,
        "token_id": caller.token_id,
        "roles": sorted(caller.roles),
        "sender": caller.sender,
        "jurisdiction": caller.jurisdiction.as_list(),
    }
