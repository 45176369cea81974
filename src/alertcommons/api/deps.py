"""Request dependencies: the hub's services and the authenticated caller."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.hub.services import Services
from alertcommons.problems import Forbidden, Unauthorized
from alertcommons.store import orgs
from alertcommons.store.tokens import hash_token

# Cache-Control of an answer that shows a secret once (a token, a signing secret): no cache
# or browser history may keep it.
NO_STORE = "no-store"
_bearer = HTTPBearer(auto_error=False, description="An Alert Commons API token (ac_…)")


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread
    # hop on every request that was a fifth of a cached feed's cost in the profile
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


async def principal(
    hub: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    secret = credentials.credentials
    token_hash = hash_token(secret)
    cached = hub.principals.get(token_hash)
    if cached is not None:
        return cached
    generation = hub.principals.generation
    row = await hub.store.read(lambda c: orgs.principal_row(c, secret))
    if row is None:
        raise Unauthorized("the token is unknown, revoked, or its organization is inactive")
    found = Principal(
        organization_id=row.organization_id,
        organization_name=row.name,
        token_id=row.token_id,
        roles=frozenset(row.roles.split(",")),
        sender=row.sender,
        jurisdiction=Jurisdiction(frozenset(json.loads(row.jurisdiction))),
        two_person_approval=bool(row.two_person_approval),
    )
    hub.principals.put(token_hash, found, generation)
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


async def admin(caller: PrincipalDep) -> Principal:
    if not caller.is_admin:
        raise Forbidden("this needs an admin token")
    return caller


AdminDep = Annotated[Principal, Depends(admin)]
