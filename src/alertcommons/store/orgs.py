"""Queries for organizations and their tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from alertcommons.store.ids import new_id
from alertcommons.store.schema import organizations, tokens
from alertcommons.store.tokens import hash_token, hint, new_token


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str
    token: str  # the secret: returned once, never stored


def org_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "sender": row.sender,
        "jurisdiction": json.loads(row.jurisdiction),
        "active": bool(row.active),
        "two_person_approval": bool(row.two_person_approval),
        "languages": json.loads(row.languages) if row.languages else None,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def token_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "roles": row.roles.split(","),
        "hint": row.hint,
        "label": row.label,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def create_org(
    connection: Connection,
    *,
    name: str,
    kind: str,
    sender: str | None,
    jurisdiction: list[str],
    org_id: str | None = None,
) -> str:
    now = datetime.now(UTC)
    org_id = org_id or new_id()
    connection.execute(
        insert(organizations).values(
            id=org_id,
            name=name,
            kind=kind,
            sender=sender,
            jurisdiction=json.dumps(jurisdiction),
            active=True,
            created_at=now,
            updated_at=now,
        )
    )
    return org_id


def get_org(connection: Connection, org_id: str) -> Any:
    return connection.execute(select(organizations).where(organizations.c.id == org_id)).first()


def org_by_sender(connection: Connection, sender: str) -> Any:
    return connection.execute(select(organizations).where(organizations.c.sender == sender)).first()


def list_orgs(connection: Connection) -> list[Any]:
    return list(connection.execute(select(organizations).order_by(organizations.c.id)))


def update_org(connection: Connection, org_id: str, changes: dict[str, Any]) -> None:
    values = dict(changes)
    if "jurisdiction" in values:
        values["jurisdiction"] = json.dumps(values["jurisdiction"])
    if "languages" in values:
        values["languages"] = json.dumps(values["languages"]) if values["languages"] else None
    values["updated_at"] = datetime.now(UTC)
    connection.execute(update(organizations).where(organizations.c.id == org_id).values(**values))


def issue_token(
    connection: Connection,
    org_id: str,
    roles: tuple[str, ...],
    *,
    label: str | None = None,
    secret: str | None = None,
) -> IssuedToken:
    secret = secret or new_token()
    token_id = new_id()
    connection.execute(
        insert(tokens).values(
            id=token_id,
            organization_id=org_id,
            roles=",".join(roles),
            token_hash=hash_token(secret),
            hint=hint(secret),
            label=label,
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
    )
    return IssuedToken(token_id, secret)


def list_tokens(connection: Connection, org_id: str) -> list[Any]:
    query = select(tokens).where(tokens.c.organization_id == org_id).order_by(tokens.c.id)
    return list(connection.execute(query))


def get_token(connection: Connection, token_id: str) -> Any:
    return connection.execute(select(tokens).where(tokens.c.id == token_id)).first()


def revoke_token(connection: Connection, token_id: str) -> None:
    connection.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def principal_row(connection: Connection, secret: str) -> Any:
    """The live token and its organization for a presented secret, or ``None``."""
    query = (
        select(
            tokens.c.id.label("token_id"),
            tokens.c.roles,
            organizations.c.id.label("organization_id"),
            organizations.c.name,
            organizations.c.sender,
            organizations.c.jurisdiction,
            organizations.c.two_person_approval,
        )
        .join(organizations, organizations.c.id == tokens.c.organization_id)
        .where(
            tokens.c.token_hash == hash_token(secret),
            tokens.c.revoked_at.is_(None),
            organizations.c.active.is_(True),
        )
    )
    return connection.execute(query).first()
