"""Signed checkpoints of the audit chain, in an append-only file outside the database.

A keyed chain stops anyone without the key from *rewriting* records, but not from cutting
the newest ones off and pointing ``audit_head`` at what is left: the rest still chains.
A checkpoint — the head's sequence number and hash, HMAC'd with the audit key — written
outside the database pins the head as it was; ``audit verify`` checks every checkpoint
against the records. What is cut off after the last checkpoint cannot be told from records
never written, so the hub writes one at start, at close, after command-line writes, and
every ``ALERTCOMMONS_AUDIT_CHECKPOINT_SECONDS`` while the head moves.

One JSON object per line: ``seq``, ``hash``, ``at``, ``keyed_after`` (the last record
written before the audit key existed: every later one must be keyed) and ``mac``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alertcommons.store.keyring import PRIVATE

_LABEL = b"alertcommons audit checkpoint\n"  # keeps these MACs apart from the chain's


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    keyed_after: int
    line: int = 0


def _mac(key: bytes, seq: int, head_hash: str, at: str, keyed_after: int) -> str:
    body = json.dumps([seq, head_hash, at, keyed_after], separators=(",", ":")).encode()
    return hmac.new(key, _LABEL + body, hashlib.sha256).hexdigest()


def _parse(key: bytes, text: str, line: int) -> Checkpoint | None:
    """The checkpoint on one line, or ``None`` if it is not one this key signed."""
    try:
        item = json.loads(text)
        checkpoint = Checkpoint(
            int(item["seq"]), str(item["hash"]), str(item["at"]), int(item["keyed_after"]), line
        )
        mac = str(item["mac"])
    except (ValueError, KeyError, TypeError):
        return None
    expected = _mac(key, checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.keyed_after)
    return checkpoint if hmac.compare_digest(mac, expected) else None


def _lines(path: Path, key: bytes) -> Iterator[Checkpoint | int]:
    """Each line's checkpoint, or its line number if it is not one this key signed."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield _parse(key, text, number) or number


def batches(path: Path, key: bytes, *, size: int) -> Iterator[list[Checkpoint | int]]:
    batch: list[Checkpoint | int] = []
    for item in _lines(path, key):
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def first_valid(path: Path, key: bytes) -> Checkpoint | None:
    for item in _lines(path, key):
        if isinstance(item, Checkpoint):
            return item
    return None


def count_lines(path: Path, key: bytes) -> tuple[int, int | None]:
    """How many valid checkpoints, and the first line that is not one (or ``None``)."""
    count = 0
    for item in _lines(path, key):
        if not isinstance(item, Checkpoint):
            return count, item
        count += 1
    return count, None


def first_and_last(path: Path, key: bytes) -> tuple[Checkpoint | None, Checkpoint | None]:
    """The first and the newest valid checkpoints, reading only the file's ends."""
    try:
        with path.open("rb") as data:
            head = data.readline().decode("utf-8", "replace")
            size = data.seek(0, os.SEEK_END)
            data.seek(max(0, size - 8192))
            tail = data.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return None, None
    first = _parse(key, head, 1) if head.strip() else None
    last = None
    for text in reversed(tail):
        last = _parse(key, text, 0) if text.strip() else None
        if last is not None:
            break
    return first, last


def append(path: Path, key: bytes, seq: int, head_hash: str, keyed_after: int) -> Checkpoint:
    """Append one checkpoint and flush it to disk (the file is only ever appended to)."""
    at = datetime.now(UTC).isoformat()
    mac = _mac(key, seq, head_hash, at, keyed_after)
    line = json.dumps(
        {"seq": seq, "hash": head_hash, "at": at, "keyed_after": keyed_after, "mac": mac},
        separators=(",", ":"),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return Checkpoint(seq, head_hash, at, keyed_after)
