"""Backing up and restoring the embedded SQLite database while the hub runs.

The copy is made with SQLite's online backup API in one step: it reads one consistent
snapshot (WAL mode lets the hub keep writing meanwhile), never a half-written transaction,
which copying the file with ``cp`` can give. Beside it goes the audit checkpoint file as it
was just *before* the snapshot, so every checkpoint in it names a record the copy holds and
the restored copy passes ``audit verify`` (a checkpoint file taken after would name records
the copy lacks: "records lost"). The key files are not in either: they stay apart from
database backups on purpose.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alertcommons.errors import AlertCommonsError
from alertcommons.store.keyring import PRIVATE, secure_data_dir

DATABASE = "alertcommons.db"
CHECKPOINTS = "audit-checkpoints.log"


class BackupError(AlertCommonsError):
    """A backup cannot be made or restored."""


def checkpoints_beside(backup: Path) -> Path:
    return backup.with_name(backup.name + ".checkpoints")


@dataclass(frozen=True, slots=True)
class Copied:
    database: Path
    checkpoints: Path | None
    alerts: int
    audit_records: int
    moved_aside: Path | None = None


def _complete_lines(path: Path) -> bytes:
    """The file's whole lines: a line being appended right now is left out."""
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1]


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _copy(source: Path, target: Path) -> None:
    """The whole of ``source`` into ``target`` through the backup API, in one step."""
    reader = sqlite3.connect(source, timeout=30)
    try:
        writer = sqlite3.connect(target, timeout=30)
        try:
            reader.backup(writer)  # pages=-1: all at once, one snapshot
        finally:
            writer.close()
    finally:
        reader.close()


def _counts(database: Path) -> tuple[int, int]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        if connection.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError(f"{database} is damaged (PRAGMA quick_check fails)")
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if not {"alembic_version", "alerts", "audit_log"} <= names:
            raise BackupError(f"{database} is not an Alert Commons hub database")
        alerts = connection.execute("SELECT count(*) FROM alerts").fetchone()[0]
        records = connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        return int(alerts), int(records)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{database} is not an SQLite database: {exc}") from None
    finally:
        connection.close()


def backup(data_dir: Path, target: Path) -> Copied:
    """Copy the hub's database (and its audit checkpoints) to ``target``, replacing it."""
    source = data_dir / DATABASE
    marks = data_dir / CHECKPOINTS
    # The checkpoints first: they may only name records the snapshot taken next holds.
    lines = _complete_lines(marks) if marks.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    try:
        _copy(source, partial)
        alerts, records = _counts(partial)
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    written = None
    if lines is not None:
        written = checkpoints_beside(target)
        _write_private(written, lines)
    return Copied(target, written, alerts, records)


def restore(source: Path, data_dir: Path) -> Copied:
    """Make ``source`` (a backup) the hub's database in ``data_dir``; the hub must be stopped.

    The checkpoint file saved with the backup takes the place of the data directory's, which
    is kept beside it (it names records the backup lacks, so it would call the restored
    database truncated — rightly, but it is no longer the record of this database)."""
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    alerts, records = _counts(source)
    secure_data_dir(data_dir)
    target = data_dir / DATABASE
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    # Through the backup API as well: it replaces the pages under SQLite's locks and takes
    # care of the target's WAL, which copying over the file would leave stale.
    _copy(source, target)
    moved = None
    marks = data_dir / CHECKPOINTS
    saved = checkpoints_beside(source)
    if marks.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        moved = marks.with_name(f"{CHECKPOINTS}.before-restore-{stamp}")
        os.replace(marks, moved)
    installed = None
    if saved.is_file():
        _write_private(marks, saved.read_bytes())
        installed = marks
    return Copied(target, installed, alerts, records, moved)
