"""The demo's tokens and passwords, kept with the data directory so they survive restarts.

``serve --demo`` used to mint new tokens and passwords at every start: the sample receiver
and the commands a new user had copied stopped working after a restart, and every start left
another live admin token behind. They are now made once per data directory, kept in
``demo-credentials.json`` beside the database (mode 0600, like the keys — this is demo data,
never for a hub that matters), and registered again at each start. Deleting the file makes new
ones at the next start and revokes the old demo tokens.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe

from alertcommons.store.tokens import new_token

FILE_NAME = "demo-credentials.json"


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    admin: str = field(repr=False)
    tokens: dict[str, str] = field(repr=False)  # organization id -> token
    passwords: dict[str, str] = field(repr=False)  # username -> password
    path: Path | None = None


def load_or_create(data_dir: Path, org_ids: list[str], usernames: list[str]) -> DemoCredentials:
    """The credentials kept in ``data_dir``; any missing one is made and the file rewritten."""
    path = data_dir / FILE_NAME
    stored: dict[str, object] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
            stored = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            stored = {}  # unreadable: start again; old demo tokens are revoked at registration
    admin = _text(stored.get("admin")) or new_token()
    tokens = _texts(stored.get("tokens"))
    passwords = _texts(stored.get("passwords"))
    changed = not path.exists() or admin != stored.get("admin")
    for org_id in org_ids:
        if org_id not in tokens:
            tokens[org_id], changed = new_token(), True
    for username in usernames:
        if username not in passwords:
            passwords[username], changed = token_urlsafe(12), True
    if changed:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"admin": admin, "tokens": tokens, "passwords": passwords}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(document, out, ensure_ascii=False, indent=2)
    return DemoCredentials(admin, tokens, passwords, path)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str) and v}
