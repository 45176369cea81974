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
from pathlib import Path
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
    """Check every record's hash and link, the head, and every signed checkpoint.

    Records and checkpoints are both streamed (a busy hub's checkpoint file grows by a line
    every few seconds for years), so memory stays flat however long the log.
    """
    keys = keys_of(connection)
    marks = None
    if keys.audit is not None:
        problem = key_mismatch(connection, "audit", keys.audit, keys.audit_path)
        if problem is not None:
            return ChainReport(0, None, problem)
        if keys.checkpoints is not None and keys.checkpoints.exists():
            marks = keys.checkpoints
    first = checkpoints.first_valid(marks, keys.audit) if marks and keys.audit else None
    keyed_after = first.keyed_after if first is not None else None
    report, last, last_hash = _walk(connection, keys.audit, keyed_after)
    if not report.intact:
        return report
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    if head is not None and (head.seq != last or head.hash != last_hash):
        return ChainReport(report.records, last + 1, "records after this point were removed")
    notes: list[str] = []
    if marks is not None and keys.audit is not None and first is not None:
        broken, held, newest = _check_marks(connection, marks, keys.audit, last)
        if broken is not None:
            return ChainReport(report.records, broken[0], broken[1])
        notes.append(f"{held} checkpoints hold, the newest at record {newest}")
    elif marks is not None and keys.audit is not None:
        held, bad = checkpoints.count_lines(marks, keys.audit)
        if bad is not None:
            return ChainReport(report.records, None, _bad_line(marks, bad))
    if report.records and first is None:
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
    if keyed_after:
        notes.append(f"records 1–{keyed_after} predate the audit key (plain SHA-256 chain)")
    return ChainReport(report.records, None, None, tuple(notes))


def _bad_line(path: Path, line: int) -> str:
    return f"line {line} of {path} is not a checkpoint signed with this hub's audit key"


def _check_marks(
    connection: Connection, path: Path, key: bytes, last: int
) -> tuple[tuple[int | None, str] | None, int, int]:
    """Each checkpoint against the records, a batch of lines per query.

    Returns (where and why it breaks, or None; how many hold; the newest checkpointed seq).
    """
    held, newest = 0, 0
    beyond: checkpoints.Checkpoint | None = None
    for batch in checkpoints.batches(path, key, size=1000):
        wanted = {m.seq for m in batch if isinstance(m, checkpoints.Checkpoint)}
        found = dict(
            connection.execute(
                select(audit_log.c.seq, audit_log.c.hash).where(audit_log.c.seq.in_(wanted))
            ).all()
        )
        found[0] = GENESIS
        for mark in batch:
            if not isinstance(mark, checkpoints.Checkpoint):
                return (None, _bad_line(path, mark)), held, newest
            newest = max(newest, mark.seq)
            if mark.seq > last:
                if beyond is None or mark.seq > beyond.seq:
                    beyond = mark
                continue
            if found.get(mark.seq) != mark.hash:
                return (
                    (
                        mark.seq,
                        f"it differs from the checkpoint of {mark.at} (checkpoint file line "
                        f"{mark.line}): the log was rewritten from here or before",
                    ),
                    held,
                    newest,
                )
            held += 1
    if beyond is not None:
        return (
            (
                last + 1,
                f"the log ends at record {last}, but the checkpoint of {beyond.at} (checkpoint "
                f"file line {beyond.line}) holds record {beyond.seq}: records after {last} "
                "were removed",
            ),
            held,
            newest,
        )
    return None, held, newest


def _rows(connection: Connection) -> Iterator[Any]:
    yield from connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()


def _walk(
    connection: Connection, key: bytes | None, keyed_after: int | None
) -> tuple[ChainReport, int, str]:
    """Every record's link and hash; returns the report, the last seq and its hash."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    seen_keyed = False
    for row in _rows(connection):
        count += 1
        problem = _record_problem(row, expected_prev, expected_seq, seen_keyed, keyed_after, key)
        if problem is not None:
            return ChainReport(count, problem[0], problem[1]), expected_seq - 1, expected_prev
        seen_keyed = seen_keyed or row["chain_version"] == KEYED
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    return ChainReport(count, None, None), expected_seq - 1, expected_prev


def _record_problem(
    row: Any,
    expected_prev: str,
    expected_seq: int,
    seen_keyed: bool,
    keyed_after: int | None,
    key: bytes | None,
) -> tuple[int, str] | None:
    """Where and why one record does not hold in its place, or ``None``."""
    seq, version = row["seq"], row["chain_version"]
    if seq != expected_seq:
        return expected_seq, f"record {expected_seq} is missing"
    if row["prev_hash"] != expected_prev:
        return seq, "its previous-hash does not match the record before"
    if version not in (UNKEYED, KEYED):
        return seq, f"unknown chain version {version}"
    if version == UNKEYED and seen_keyed:
        return seq, "it is unkeyed but follows keyed records"
    if version == UNKEYED and keyed_after is not None and seq > keyed_after:
        return seq, (
            f"it is unkeyed, but every record after {keyed_after} was written with the "
            "audit key (signed checkpoints say so)"
        )
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
        return seq, "it is keyed, but the audit key is not available to check it"
    if not hmac.compare_digest(digest, row["hash"]):
        return seq, "its content does not match its hash: edited, or rehashed without the audit key"
    return None


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
