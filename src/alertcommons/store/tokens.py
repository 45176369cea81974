"""API tokens: random, shown once, stored only as a SHA-256 hash.

Here in ``store/`` because the store keeps them: ``auth/`` and ``store/`` are siblings.

Tokens carry 256 bits of randomness, so a fast hash is enough at rest (a slow KDF protects
low-entropy passwords, which these are not) and lets every request be checked cheaply.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "ac_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hint(token: str) -> str:
    return "…" + token[-6:]
