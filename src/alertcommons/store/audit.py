"""The audit log: append-only, each record carrying a keyed hash of the one before.

A record's hash is HMAC-SHA256, with the audit key kept outside the database (see
``store/keyring.py``), over the previous hash and the record's canonical JSON: changing,
inserting or deleting any record breaks every hash after it, and nobody who can only write
the database can recompute them. Cutting the newest records off is caught by the signed
checkpoints kept outside the database (``store/checkpoints.py``). Appends lock the one
``audit_head`` row, which orders them across writer threads and hub nodes.

Records written before the key existed (``chain_version`` 0) were chained with plain
SHA-256; they still verify, and the first keyed record and the checkpoints after them hold
them in place. No unkeyed record may follow a keyed one, nor come after the checkpoints'
``keyed_after``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from alertcommons.errors import AlertCommonsError
from alertcommons.store import checkpoints
from alertcommons.store.keyring import key_mismatch, keys_of
from alertcommons.store.schema import audit_head, audit_log

GENESIS = "0" * 64
UNKEYED, KEYED = 0, 1

log = logging.getLogger(__name__)


class AuditKeyMissing(AlertCommonsError):
    """An audit record cannot be written: the store has no audit key."""


def _digest(
    version: int,
    key: bytes | None,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: str,
) -> str | None:
    body = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), actor, action, subject, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    message = f"{prev_hash}\n{body}".encode()
    if version == UNKEYED:
        return hashlib.sha256(message).hexdigest()
    if key is None:
        return None
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    actor: str
    action: str
    subject: str | None = None
    detail: dict[str, Any] | None = None


def append(
    connection: Connection,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one record inside the caller's transaction; return its sequence number."""
    return append_many(connection, [Entry(actor, action, subject, detail)])[0]


def append_many(connection: Connection, entries: list[Entry]) -> list[int]:
    """Append records in order, in the caller's transaction; return their sequence numbers."""
    if not entries:
        return []
    key = keys_of(connection).audit
    if key is None:
        # Never fall back to an unkeyed record: it could be rewritten without a trace.
        raise AuditKeyMissing("no audit key: the store was opened without its key files")
    head = connection.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).first()
    if head is None:
        connection.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))
        seq, prev_hash = 0, GENESIS
    else:
        seq, prev_hash = head.seq, head.hash
    rows = []
    moment = datetime.now(UTC)
    for entry in entries:
        seq += 1
        detail_text = json.dumps(entry.detail or {}, ensure_ascii=False, sort_keys=True)
        digest = _digest(
            KEYED,
            key,
            prev_hash,
            seq,
            moment,
            entry.actor,
            entry.action,
            entry.subject,
            detail_text,
        )
        assert digest is not None
        rows.append(
            {
                "seq": seq,
                "at": moment,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject,
                "detail": detail_text,
                "prev_hash": prev_hash,
                "hash": digest,
                "chain_version": KEYED,
            }
        )
        prev_hash = digest
    connection.execute(insert(audit_log), rows)
    connection.execute(
        update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev_hash)
    )
    return list(range(seq - len(rows) + 1, seq + 1))


def checkpoint(connection: Connection) -> checkpoints.Checkpoint | None:
    """Write a signed checkpoint of the head to the checkpoint file if the head moved.

    Also a cheap trip-wire: if the record the newest checkpoint names is gone or changed,
    say so in the log at once (``audit verify`` gives the whole picture).
    """
    keys = keys_of(connection)
    if keys.audit is None or keys.checkpoints is None:
        return None
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    first, last = checkpoints.first_and_last(keys.checkpoints, keys.audit)
    if last is not None:
        if last.seq == seq and last.hash == head_hash:
            return None
        if _hash_at(connection, last.seq) != last.hash:
            log.error(
                "the audit log no longer holds record %s as checkpointed at %s: "
                "run 'alertcommons audit verify'",
                last.seq,
                last.at,
            )
    if first is not None:
        keyed_after = first.keyed_after
    else:
        # The first checkpoint fixes, for good, where unkeyed records end.
        unkeyed = select(func.max(audit_log.c.seq)).where(audit_log.c.chain_version == UNKEYED)
        keyed_after = connection.execute(unkeyed).scalar() or 0
    return checkpoints.append(keys.checkpoints, keys.audit, seq, head_hash, keyed_after)


def _hash_at(connection: Connection, seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    query = select(audit_log.c.hash).where(audit_log.c.seq == seq)
    found: str | None = connection.execute(query).scalar()
    return found


@dataclass(frozen=True, slots=True)
class ChainReport:
    records: int
    broken_at: int | None  # sequence number of the first record that does not hold
    reason: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return self.reason is None


def verify_chain(connection: Connection) -> ChainReport:
    """Check every record's hash and link, the head, and every signed checkpoint."""
    keys = keys_of(connection)
    marks: list[checkpoints.Checkpoint] = []
    notes: list[str] = []
    keyed_after: int | None = None
    if keys.audit is not None:
        problem = key_mismatch(connection, "audit", keys.audit, keys.audit_path)
        if problem is not None:
            return ChainReport(0, None, problem)
    if keys.audit is not None and keys.checkpoints is not None and keys.checkpoints.exists():
        marks, bad_lines = checkpoints.read_all(keys.checkpoints, keys.audit)
        if bad_lines:
            return ChainReport(
                0,
                None,
                f"line {bad_lines[0]} of {keys.checkpoints} is not a checkpoint signed with "
                "this hub's audit key",
            )
        if marks:
            keyed_after = marks[0].keyed_after
    report = _walk(connection, keys.audit, keyed_after, marks)
    if not report.intact:
        return report
    if report.records and not marks:
        keyed = connection.execute(
            select(func.count()).where(audit_log.c.chain_version == KEYED)
        ).scalar()
        if keyed:
            where = keys.checkpoints or "the data directory"
            return ChainReport(
                report.records,
                None,
                f"no audit checkpoints in {where}: whether the newest records were removed "
                "cannot be told",
            )
        notes.append(
            "every record predates the audit key (plain SHA-256 chain); the hub keys new "
            "records and writes checkpoints from its next start"
        )
    if marks:
        notes.append(f"{len(marks)} checkpoints hold, the newest at record {marks[-1].seq}")
    if keyed_after:
        notes.append(f"records 1–{keyed_after} predate the audit key (plain SHA-256 chain)")
    return ChainReport(report.records, None, None, (*report.notes, *notes))


def _rows(connection: Connection) -> Iterator[Any]:
    yield from connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()


def _walk(
    connection: Connection,
    key: bytes | None,
    keyed_after: int | None,
    marks: list[checkpoints.Checkpoint],
) -> ChainReport:
    expected_prev, expected_seq, count = GENESIS, 1, 0
    pinned: dict[int, list[checkpoints.Checkpoint]] = {}
    for mark in marks:
        pinned.setdefault(mark.seq, []).append(mark)
    seen_keyed = False

    def pinned_hash_holds(seq: int, digest: str) -> ChainReport | None:
        for mark in pinned.get(seq, ()):
            if mark.hash != digest:
                return ChainReport(
                    count,
                    seq,
                    f"it differs from the checkpoint of {mark.at} (checkpoint file line "
                    f"{mark.line}): the log was rewritten from here or before",
                )
        return None

    if (broken := pinned_hash_holds(0, GENESIS)) is not None:
        return broken
    for row in _rows(connection):
        count += 1
        seq, version = row["seq"], row["chain_version"]
        if seq != expected_seq:
            return ChainReport(count, expected_seq, f"record {expected_seq} is missing")
        if row["prev_hash"] != expected_prev:
            return ChainReport(count, seq, "its previous-hash does not match the record before")
        if version == UNKEYED and seen_keyed:
            return ChainReport(count, seq, "it is unkeyed but follows keyed records")
        if version == UNKEYED and keyed_after is not None and seq > keyed_after:
            return ChainReport(
                count,
                seq,
                f"it is unkeyed, but every record after {keyed_after} was written with the "
                "audit key (signed checkpoints say so)",
            )
        if version not in (UNKEYED, KEYED):
            return ChainReport(count, seq, f"unknown chain version {version}")
        seen_keyed = seen_keyed or version == KEYED
        digest = _digest(
            version,
            key,
            row["prev_hash"],
            seq,
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            row["detail"],
        )
        if digest is None:
            return ChainReport(
                count, seq, "it is keyed, but the audit key is not available to check it"
            )
        if not hmac.compare_digest(digest, row["hash"]):
            return ChainReport(
                count,
                seq,
                "its content does not match its hash: edited, or rehashed without the audit key",
            )
        if (broken := pinned_hash_holds(seq, row["hash"])) is not None:
            return broken
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    last = expected_seq - 1
    beyond = [mark for mark in marks if mark.seq > last]
    if beyond:
        mark = max(beyond, key=lambda m: m.seq)
        return ChainReport(
            count,
            last + 1,
            f"the log ends at record {last}, but the checkpoint of {mark.at} (checkpoint file "
            f"line {mark.line}) holds record {mark.seq}: records after {last} were removed",
        )
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    if head is not None and (head.seq != last or head.hash != expected_prev):
        return ChainReport(count, expected_seq, "records after this point were removed")
    return ChainReport(count, None, None)


def records(
    connection: Connection, *, limit: int = 100, subject: str | None = None
) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    out = []
    for row in connection.execute(query).mappings():
        item = dict(row)
        item["detail"] = json.loads(item["detail"])
        item["at"] = item["at"].isoformat()
        out.append(item)
    return out
