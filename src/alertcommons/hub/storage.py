"""The hub's store, built from settings with the keys it keeps outside the database."""

from __future__ import annotations

from alertcommons.settings import Settings, SettingsError
from alertcommons.store.engine import Store
from alertcommons.store.keyring import load_keys


def store_for(settings: Settings, *, read_only: bool = False) -> Store:
    """A store (not yet opened) for these settings, with its audit and secrets keys.

    The default key files are made on first use; ``read_only`` tools (``audit verify``)
    never make one, they work with what exists.
    """
    if settings.audit_checkpoint_seconds <= 0:
        raise SettingsError("ALERTCOMMONS_AUDIT_CHECKPOINT_SECONDS must be more than 0")
    keys = load_keys(
        settings.data_dir,
        audit_key_file=settings.audit_key_file,
        secrets_key_file=settings.secrets_key_file,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
        create=not read_only,
    )
    return Store(settings.store_url, keys=keys)
