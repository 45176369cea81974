"""/api/v1/organizations: issuers and receivers, their jurisdictions and tokens (admin)."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.hub import accounts, organizations
from alertcommons.jp.codes import CodeError
from alertcommons.jp.phrases import LANGUAGES, wanted
from alertcommons.problems import Forbidden, Unprocessable
from alertcommons.store import orgs, users

from .deps import NO_STORE, AdminDep, PrincipalDep, ServicesDep

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
    created = await organizations.create(
        hub,
        caller.actor,
        name=body.name,
        kind=body.kind,
        sender=sender,
        jurisdiction=jurisdiction,
    )
    response.headers["Location"] = f"/api/v1/organizations/{created['id']}"
    response.headers["Cache-Control"] = NO_STORE  # its first token
    return created


@router.get("", summary="All organizations")
async def list_organizations(hub: ServicesDep, caller: AdminDep) -> dict[str, Any]:
    rows = await hub.store.read(orgs.list_orgs)
    return {"items": [orgs.org_to_dict(row) for row in rows]}


def _own_or_admin(caller: Principal, org_id: str) -> None:
    if not caller.is_admin and caller.organization_id != org_id:
        raise Forbidden("you can only see your own organization")


@router.get("/{org_id}", summary="One organization")
async def get_organization(org_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _own_or_admin(caller, org_id)
    return orgs.org_to_dict(await organizations.get(hub, org_id))


@router.patch(
    "/{org_id}",
    summary="Change name, sender, jurisdiction, active, two-person approval or languages",
)
async def update_organization(
    org_id: str, body: OrganizationPatch, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    await organizations.get(hub, org_id)
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

    return await organizations.update(hub, caller.actor, org_id, changes)


@router.get("/{org_id}/tokens", summary="The organization's tokens (never their secrets)")
async def list_tokens(org_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _own_or_admin(caller, org_id)
    await organizations.get(hub, org_id)
    rows = await hub.store.read(lambda c: orgs.list_tokens(c, org_id))
    return {"items": [orgs.token_to_dict(row) for row in rows]}


@router.post("/{org_id}/tokens", status_code=201, summary="Issue a new token (shown once)")
async def issue_token(
    org_id: str, body: TokenIn, hub: ServicesDep, caller: AdminDep, response: Response
) -> dict[str, Any]:
    issued = await organizations.issue_token(hub, caller.actor, org_id, body.label)
    response.headers["Cache-Control"] = NO_STORE
    return {"id": issued.id, "token": issued.token, "organization_id": issued.organization_id}


@router.delete("/{org_id}/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def revoke_token(
    org_id: str, token_id: str, hub: ServicesDep, caller: PrincipalDep
) -> Response:
    _own_or_admin(caller, org_id)
    await organizations.revoke_token(hub, caller.actor, org_id, token_id)
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
    return await organizations.create_user(
        hub,
        caller.actor,
        org_id,
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        roles=list(body.roles),
    )


@router.get("/{org_id}/users", summary="The organization's console accounts")
async def list_users(org_id: str, hub: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _own_or_admin(caller, org_id)
    await organizations.get(hub, org_id)
    rows = await hub.store.read(lambda c: users.users_of(c, org_id))
    limit = hub.settings.login_max_failures
    return {
        "items": [
            {
                key: value
                for key, value in accounts.account(r, limit).items()
                if key != "organization_id"
            }
            for r in rows
        ]
    }


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    roles: list[Literal["drafter", "approver", "admin", "viewer"]] | None = Field(
        default=None, min_length=1, max_length=4
    )
    active: bool | None = Field(
        default=None, description="false disables the account and ends its sessions"
    )


@router.patch("/{org_id}/users/{user_id}", summary="Disable or enable an account, change roles")
async def update_user(
    org_id: str, user_id: str, body: UserPatch, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    row = await organizations.update_user(
        hub,
        caller.actor,
        org_id,
        user_id,
        active=body.active,
        roles=list(body.roles) if body.roles is not None else None,
        display_name=body.display_name,
    )
    return accounts.account(row, hub.settings.login_max_failures)


@router.delete("/{org_id}/users/{user_id}/sessions", summary="Sign an account out everywhere")
async def end_user_sessions(
    org_id: str, user_id: str, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    ended = await organizations.end_user_sessions(hub, caller.actor, org_id, user_id)
    return {"id": user_id, "sessions_ended": ended}


class PasswordReset(BaseModel):
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="the new password; omitted, the hub makes one and answers it once",
    )


@router.post("/{org_id}/users/{user_id}/password", summary="Reset an account's password")
async def reset_user_password(
    org_id: str, user_id: str, body: PasswordReset, hub: ServicesDep, caller: AdminDep
) -> dict[str, Any]:
    _, password, ended = await organizations.reset_password(
        hub, caller.actor, org_id, user_id, body.password
    )
    answer: dict[str, Any] = {"id": user_id, "sessions_ended": ended}
    if body.password is None:
        answer["password"] = password  # made here: shown this once
    return answer


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
