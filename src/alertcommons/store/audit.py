"""The audit log: append-only, each record carrying the hash of the one before.

A record's hash is SHA-256 over the previous hash and the record's canonical JSON, so
changing, inserting or deleting any record breaks every hash after it. Appends lock the one
``audit_head`` row, which orders them across writer threads and hub nodes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from alertcommons.store.schema import audit_head, audit_log

GENESIS = "0" * 64


def _digest(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: str,
) -> str:
    body = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), actor, action, subject, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


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
            prev_hash, seq, moment, entry.actor, entry.action, entry.subject, detail_text
        )
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
            }
        )
        prev_hash = digest
    connection.execute(insert(audit_log), rows)
    connection.execute(
        update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev_hash)
    )
    return list(range(seq - len(rows) + 1, seq + 1))


@dataclass(frozen=True, slots=True)
class ChainReport:
    records: int
    broken_at: int | None  # sequence number of the first record that does not hold
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain(connection: Connection) -> ChainReport:
    expected_prev, expected_seq, count = GENESIS, 1, 0
    rows = connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()
    for row in rows:
        count += 1
        if row["seq"] != expected_seq:
            return ChainReport(count, expected_seq, f"record {expected_seq} is missing")
        if row["prev_hash"] != expected_prev:
            return ChainReport(
                count, row["seq"], "its previous-hash does not match the record before"
            )
        digest = _digest(
            row["prev_hash"],
            row["seq"],
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            row["detail"],
        )
        if digest != row["hash"]:
            return ChainReport(count, row["seq"], "its content does not match its hash")
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
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
