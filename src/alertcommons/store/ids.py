"""Identifiers that sort by creation time (ULID-style): 48-bit milliseconds + 80 random bits."""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


ID_PATTERN = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def new_id() -> str:
    return _encode((time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big"))


def is_id(text: str) -> bool:
    return ID_PATTERN.fullmatch(text) is not None


def floor_id(epoch_seconds: float) -> str:
    """The smallest id made at ``epoch_seconds``: ids after it were made later."""
    return _encode(int(epoch_seconds * 1000) << 80)


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
