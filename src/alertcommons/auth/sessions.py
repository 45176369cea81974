"""A console user and the rules of their session: who they are, what they may do, how long a
session lasts, and how a CSRF token is compared. No storage here: the sign-in operations that
read and write sessions are in ``hub/sessions.py``; cookies are in ``web/sessions.py``."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal

SESSION_HOURS = 12


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    session_id: str
    csrf_token: str
    user_id: str
    username: str
    display_name: str
    roles: frozenset[str]
    organization_id: str
    organization_name: str
    organization_kind: str
    sender: str | None
    jurisdiction: Jurisdiction
    two_person_approval: bool

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles and self.organization_kind == "operator"

    @property
    def is_issuer(self) -> bool:
        return self.organization_kind in ("issuer", "both") and bool(
            self.roles & {"drafter", "approver"}
        )

    @property
    def can_approve(self) -> bool:
        return self.is_issuer and "approver" in self.roles

    @property
    def needs_approval(self) -> bool:
        """Does what this user publishes wait for a second person?"""
        return self.two_person_approval

    def principal(self) -> Principal:
        roles = set()
        if self.is_issuer:
            roles.add("issuer")
        if self.is_admin:
            roles.add("admin")
        return Principal(
            self.organization_id,
            self.organization_name,
            f"user:{self.user_id}",
            frozenset(roles),
            self.sender,
            self.jurisdiction,
        )


@dataclass(frozen=True, slots=True)
class SignIn:
    secret: str | None = None  # the new session's cookie value, on success
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LockOut:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
