"""Endpoint settings sealed at rest: AES-256-GCM with the secrets key, bound to the row.

The whole settings document is sealed, not chosen fields: a webhook URL often carries a
token of its own, and a channel added later cannot forget to name its secret. The endpoint's
id is the associated data, so a sealed document copied onto another endpoint's row does not
open (a database writer cannot point a victim's deliveries at its own receiver that way).

Stored form: ``sealed:v1:`` + base64(12-byte nonce + ciphertext). A document without the
prefix is plaintext written before sealing existed; it is read as it is and sealed when the
store next opens (:func:`alertcommons.store.endpoints.seal_plaintext`).
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from alertcommons.errors import AlertCommonsError

PREFIX = "sealed:v1:"
_NONCE = 12


class SealError(AlertCommonsError):
    """A sealed document does not open with this hub's secrets key."""


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(key: bytes, plaintext: str, bound_to: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), bound_to.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes | None, stored: str, bound_to: str) -> str:
    if not is_sealed(stored):
        return stored
    if key is None:
        raise SealError("no secrets key is available to open it")
    try:
        raw = base64.b64decode(stored.removeprefix(PREFIX), validate=True)
        opened = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise SealError("it does not open with this hub's secrets key") from None
    return opened.decode()
