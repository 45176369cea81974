"""One cluster, one signing key: every hub node on a database signs with the same key.

The cluster's current key lives in the database, its private half sealed (AES-256-GCM,
``store/sealed.py``) under the secrets key that every node already shares; the certificates
of every key ever current stay in ``hub_keys``, so alerts signed before a rotation verify.

* The first node to start on a database seeds it with its own key: the configured files
  (``ALERTCOMMONS_SIGNING_KEY``/``_CERT``) or the one it made in its data directory.
* A node without configured key files then signs with the cluster's key; the key files in
  its data directory are only ever a seed (a stale one there is not used).
* A node with configured key files must hold the cluster's key; any other refuses to start
  (:class:`ClusterKeyError`), rather than signing alerts receivers will not trust.
* ``alertcommons keys rotate`` (:func:`rotate`) makes a new key current; nodes take it at
  their next start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from alertcommons.errors import AlertCommonsError
from alertcommons.hub import signer
from alertcommons.hub.signer import HubKey
from alertcommons.settings import Settings
from alertcommons.store import audit
from alertcommons.store import keys as hub_keys
from alertcommons.store.engine import Store
from alertcommons.store.sealed import SealError, seal, unseal


class ClusterKeyError(AlertCommonsError):
    """This node's signing key is not the cluster's, or the cluster's does not open."""


def _bound_to(key_id: str) -> str:
    # The associated data: a sealed key copied under another key id does not open.
    return f"cluster signing key {key_id}"


def _secrets(store: Store) -> bytes:
    if store.keys.secrets is None:
        raise ClusterKeyError("no secrets key: the cluster's signing key is sealed under it")
    return store.keys.secrets


def _install(store: Store, key: HubKey, key_pem: bytes, *, replace: bool) -> tuple[str | None, str]:
    """Seal ``key`` into the database as the current key (or only if none is), in one
    transaction with its audit record when it replaces one; return the ids of the key
    current before and after."""
    sealed = seal(_secrets(store), key_pem.decode(), _bound_to(key.key_id))

    def write(connection: Connection) -> tuple[str | None, str]:
        before = hub_keys.cluster_key(connection)
        row = hub_keys.set_cluster_key(
            connection, key.key_id, sealed, key.cert_pem.decode(), replace=replace
        )
        hub_keys.remember(connection, key.key_id, key.cert_pem.decode(), key.signing.algorithm)
        previous = str(before.key_id) if before is not None else None
        if replace:
            audit.append(
                connection,
                actor="cli",
                action="hub.key.rotate",
                subject=key.key_id,
                detail={"previous": previous},
            )
        return previous, str(row.key_id)

    return store.run_write(write)


def _open(store: Store, row: Any) -> HubKey:
    key_id = str(row.key_id)
    try:
        key_pem = unseal(_secrets(store), str(row.sealed_key), _bound_to(key_id))
    except SealError as exc:
        raise ClusterKeyError(f"the cluster's signing key {key_id} does not open: {exc}") from None
    return signer.from_pem(key_pem.encode(), str(row.certificate).encode())


def resolve(store: Store, settings: Settings) -> HubKey:
    """The key this node signs with: the cluster's, seeded from this node's if none is set."""
    row = store.run_read(hub_keys.cluster_key)
    if row is None:
        local = signer.load_or_create(
            settings.key_path,
            settings.cert_path,
            create=settings.generates_key,
            name=settings.hub_name,
        )
        _, current = _install(store, local, settings.key_path.read_bytes(), replace=False)
        if current == local.key_id:
            return local
        row = store.run_read(hub_keys.cluster_key)  # another node seeded it first
        assert row is not None
    if not settings.generates_key:
        local = signer.load_or_create(
            settings.key_path, settings.cert_path, create=False, name=settings.hub_name
        )
        if local.key_id != row.key_id:
            raise ClusterKeyError(
                f"the signing key {settings.key_path} (key id {local.key_id}) is not the "
                f"cluster's current key {row.key_id}: every node signs with the cluster's "
                "key (unset ALERTCOMMONS_SIGNING_KEY and ALERTCOMMONS_SIGNING_CERT to take it "
                "from the database, or make this key current with 'alertcommons keys rotate "
                "--key FILE --cert FILE')"
            )
        return local
    return _open(store, row)


@dataclass(frozen=True, slots=True)
class Rotation:
    previous: str | None
    current: str


def rotate(
    store: Store, settings: Settings, key_pem: bytes | None = None, cert_pem: bytes | None = None
) -> Rotation:
    """Make a new key (or the given one) the cluster's current key, with an audit record."""
    if key_pem is None or cert_pem is None:
        key_pem, cert_pem = signer.new_key(settings.hub_name)
    try:
        key = signer.from_pem(key_pem, cert_pem)
    except (ValueError, TypeError, AlertCommonsError) as exc:
        raise ClusterKeyError(
            f"the key and certificate given do not make a signing key: {exc}"
        ) from None
    previous, current = _install(store, key, key_pem, replace=True)
    return Rotation(previous, current)
