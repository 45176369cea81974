"""The caller of a request, as established from its token."""

from __future__ import annotations

from dataclasses import dataclass

from alertcommons.auth.jurisdiction import Jurisdiction

ROLES = ("admin", "issuer", "receiver")
KINDS = ("issuer", "receiver", "both", "operator")


def roles_for_kind(kind: str) -> tuple[str, ...]:
    return {
        "issuer": ("issuer",),
        "receiver": ("receiver",),
        "both": ("issuer", "receiver"),
        "operator": ("admin",),
    }[kind]


@dataclass(frozen=True, slots=True)
class Principal:
    organization_id: str
    organization_name: str
    token_id: str
    roles: frozenset[str]
    sender: str | None
    jurisdiction: Jurisdiction
    # Whether the organization publishes only through approved drafts, when the token lookup
    # read it with the rest (cached as long as sender and jurisdiction are); None: not known,
    # the publisher reads it from the store (hub/approval.py).
    two_person_approval: bool | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def actor(self) -> str:
        return f"{self.organization_id}/{self.token_id}"
