"""Keys the store uses that must never live in the database itself.

Two secrets guard what is in the database against someone who can read or write it (a
stolen backup, a shared PostgreSQL, an SQL injection, a careless DBA):

* the **audit key** makes the audit chain an HMAC chain, so records cannot be rewritten and
  rehashed by anyone without it (see ``store/audit.py``);
* the **secrets key** seals endpoint settings (webhook secrets, SMTP and MQTT passwords, URLs
  with tokens in them) at rest (see ``store/sealed.py``).

Both are 32 random bytes, base64 in a file of mode 0600: by default ``audit-key`` and
``secrets-key`` in the data directory, made on first start; or files an operator names. Hubs
sharing one PostgreSQL must all have the same two files, like the signing key. Their values
never appear in ``repr`` or logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select

from alertcommons.errors import AlertCommonsError
from alertcommons.store.schema import store_keys

KEY_BYTES = 32
PRIVATE = 0o600

# Files in the data directory that hold keys or data: only the hub's user may read them.
SENSITIVE_FILES = (
    "alertcommons.db",
    "alertcommons.db-wal",
    "alertcommons.db-shm",
    "alertcommons.db-journal",
    "hub-key.pem",
    "audit-key",
    "secrets-key",
    "audit-checkpoints.log",
)


class KeyFileError(AlertCommonsError):
    """A key file is missing, unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class StoreKeys:
    """What the store needs from outside the database. ``None`` means: not available."""

    audit: bytes | None = field(default=None, repr=False)
    secrets: bytes | None = field(default=None, repr=False)
    checkpoints: Path | None = None  # the append-only file of signed audit checkpoints
    checkpoint_seconds: float = 10.0
    audit_path: Path | None = None  # where the keys are (for messages only)
    secrets_path: Path | None = None


def private_file(path: Path) -> None:
    """Make an existing file readable by its owner only (files made before this rule)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if stat.S_IMODE(mode) & 0o077:
        os.chmod(path, PRIVATE)


def secure_data_dir(data_dir: Path) -> None:
    """Create the data directory for its owner only; tighten key and database files in it."""
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)
    for name in SENSITIVE_FILES:
        private_file(data_dir / name)


def read_key(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror}") from None
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"the key file {path} is not base64") from None
    if len(key) < KEY_BYTES:
        raise KeyFileError(f"the key file {path} holds {len(key)} bytes; it needs {KEY_BYTES}")
    return key[:KEY_BYTES]


def load_or_create_key(path: Path, *, create: bool) -> bytes:
    """The key in ``path``; made (0600, never overwritten) if missing and ``create``."""
    if not path.exists():
        if not create:
            raise KeyFileError(f"the key file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n"
        try:
            # O_EXCL: two processes starting at once never overwrite each other's key.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        except FileExistsError:
            return read_key(path)
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    return read_key(path)


def load_keys(
    data_dir: Path,
    *,
    audit_key_file: Path | None,
    secrets_key_file: Path | None,
    checkpoint_seconds: float = 10.0,
    create: bool = True,
) -> StoreKeys:
    """Keys for a hub: default files in ``data_dir`` are made on first start; files an
    operator names must exist. With ``create=False`` (read-only tools) a missing default
    file is just absent."""
    if create:
        secure_data_dir(data_dir)
    audit_path = audit_key_file or data_dir / "audit-key"
    secrets_path = secrets_key_file or data_dir / "secrets-key"

    def one(path: Path, given: bool) -> bytes | None:
        if not create and not given and not path.exists():
            return None
        return load_or_create_key(path, create=create and not given)

    return StoreKeys(
        audit=one(audit_path, audit_key_file is not None),
        secrets=one(secrets_path, secrets_key_file is not None),
        checkpoints=data_dir / "audit-checkpoints.log",
        checkpoint_seconds=checkpoint_seconds,
        audit_path=audit_path,
        secrets_path=secrets_path,
    )


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it: an HMAC, under the key, of a fixed label."""
    return hmac.new(key, b"alertcommons key fingerprint", hashlib.sha256).hexdigest()


def key_mismatch(connection: Connection, name: str, key: bytes, path: Path | None) -> str | None:
    """Why ``key`` is not the one this database was written with, or ``None`` if it is."""
    recorded = connection.execute(
        select(store_keys.c.fingerprint).where(store_keys.c.name == name)
    ).scalar()
    if recorded is None or hmac.compare_digest(recorded, fingerprint(key)):
        return None
    return (
        f"the {name} key in {path or 'its file'} is not the one this database was written "
        f"with (fingerprint {fingerprint(key)[:12]}…, the database's {recorded[:12]}…): every "
        "hub node needs the same key files; copy them from the node that made them"
    )


def check_fingerprints(connection: Connection, keys: StoreKeys) -> set[str]:
    """Record the keys' fingerprints on first use; refuse keys other than those recorded.
    Return the names of the keys used with this database for the first time."""
    first_use: set[str] = set()
    for name, key, path in (
        ("audit", keys.audit, keys.audit_path),
        ("secrets", keys.secrets, keys.secrets_path),
    ):
        if key is None:
            continue
        problem = key_mismatch(connection, name, key, path)
        if problem is not None:
            raise KeyFileError(problem)
        known = select(store_keys.c.name).where(store_keys.c.name == name)
        if connection.execute(known).first() is None:
            connection.execute(
                insert(store_keys).values(
                    name=name, fingerprint=fingerprint(key), first_used_at=datetime.now(UTC)
                )
            )
            first_use.add(name)
    return first_use


# The store hands its keys to query functions through the connection (an execution option
# set on its engines), so plain query functions over a connection stay plain.
KEYS_OPTION = "alertcommons_keys"
_NO_KEYS = StoreKeys()


def keys_of(connection: Connection) -> StoreKeys:
    keys = connection.get_execution_options().get(KEYS_OPTION)
    return keys if isinstance(keys, StoreKeys) else _NO_KEYS
