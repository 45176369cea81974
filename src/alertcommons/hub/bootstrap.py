"""First-start set-up: the operator organization and its admin token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from alertcommons.store import audit, orgs
from alertcommons.store.schema import tokens
from alertcommons.store.tokens import hash_token

OPERATOR_ID = "operator"


@dataclass(frozen=True, slots=True)
class InitResult:
    created_operator: bool
    token: str | None  # a new secret to show once, or None
    token_id: str | None


def initialize(
    connection: Connection, *, admin_token: str | None, new_token: bool, first_token: bool = True
) -> InitResult:
    """Create the operator organization if missing, and an admin token when asked or first.

    ``admin_token`` (from ``ALERTCOMMONS_ADMIN_TOKEN``) is registered as given, once.
    ``first_token=False`` (the demo, which keeps its own admin token) makes none on creation.
    """
    created = orgs.get_org(connection, OPERATOR_ID) is None
    if created:
        orgs.create_org(
            connection,
            name="Platform operator",
            kind="operator",
            sender=None,
            jurisdiction=[],
            org_id=OPERATOR_ID,
        )
        audit.append(
            connection,
            actor="system",
            action="org.create",
            subject=OPERATOR_ID,
            detail={"name": "Platform operator", "kind": "operator"},
        )
    if admin_token:
        known = connection.execute(
            select(tokens.c.id).where(tokens.c.token_hash == hash_token(admin_token))
        ).first()
        if known is None:
            issued = orgs.issue_token(
                connection,
                OPERATOR_ID,
                ("admin",),
                label="ALERTCOMMONS_ADMIN_TOKEN",
                secret=admin_token,
            )
            audit.append(
                connection,
                actor="system",
                action="token.create",
                subject=issued.id,
                detail={"organization_id": OPERATOR_ID, "source": "environment"},
            )
        return InitResult(created, None, None)
    if (created and first_token) or new_token:
        issued = orgs.issue_token(connection, OPERATOR_ID, ("admin",), label="init")
        audit.append(
            connection,
            actor="system",
            action="token.create",
            subject=issued.id,
            detail={"organization_id": OPERATOR_ID},
        )
        return InitResult(created, issued.token, issued.id)
    return InitResult(False, None, None)
