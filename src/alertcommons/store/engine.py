"""The store: SQLite (WAL) by default, PostgreSQL by URL; writes group-committed.

There is one writer per SQLite database, so no client ever sees ``database is locked``: its
write jobs queue on the event loop and run together once per loop turn (SQLite answers in
microseconds; running there spares thread hand-offs and GIL contention). PostgreSQL writes go
through a few writer threads instead. Either way a writer takes every job waiting, runs each
group in its own savepoint (or one batch statement set, see :class:`BatchWriter`), and commits
them in one transaction: a caller is answered only after that commit, so an acknowledged
write is durable, and under load many writes share one disk flush.

The store also carries the keys kept outside the database (``store/keyring.py``): query
functions find them on their connection. With them it checks that the key files are those
the database was written with, seals endpoint settings written in plain text by earlier
versions (once, when the key is first used), and writes signed audit checkpoints at open,
at close, after command-line writes and periodically (``store/checkpoints.py``). An SQLite
file is created readable by its owner only, and an older one is made so at open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, PendingRollbackError

from alertcommons.errors import AlertCommonsError
from alertcommons.store import audit
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.keyring import (
    KEYS_OPTION,
    PRIVATE,
    StoreKeys,
    check_fingerprints,
    private_file,
)

T = TypeVar("T")
ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

_BATCH_LIMIT = 128
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")

log = logging.getLogger(__name__)


class StoreError(AlertCommonsError):
    """The database could not be reached or set up."""


class StoreUnavailable(StoreError):
    """The connection to the database was lost or could not be made (PostgreSQL stopping,
    restarting, failing over): nothing of the write was stored, and the same write may well
    succeed in a few seconds. The API answers 503 with ``Retry-After``."""


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` says the database is out of reach rather than that the statement
    was wrong: those are worth retrying, the others are bugs."""
    if isinstance(error, StoreUnavailable | OperationalError | InterfaceError):
        return True
    if isinstance(error, PendingRollbackError):  # a connection invalidated mid-transaction
        return True
    return bool(getattr(error, "connection_invalidated", False))


def _refused(error: BaseException) -> StoreError:
    if connection_lost(error):
        return StoreUnavailable(f"the database cannot be reached: {error}")
    return StoreError(f"the database refused the write: {error}")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'alertcommons.db'}"


# The databases the store is written and tested for; anything else fails late and obscurely
# (a missing driver module, SQL it does not speak), so it is refused by name up front.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def check_url(url: str) -> None:
    """Refuse a database URL the store cannot use, with a sentence that says what it can."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception:  # SQLAlchemy's ArgumentError, or worse for odd input
        backend = None
    if backend == "postgres":
        backend = "postgresql"
    if backend not in SUPPORTED_BACKENDS:
        shown = make_url(url).render_as_string() if backend else repr(url)
        raise StoreError(
            f"unsupported database URL {shown}: use postgresql://user@host/db, or no URL "
            "for the embedded SQLite in the data directory"
        )


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` as integrators write it; use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, for_writes: bool) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine, immediate=for_writes)
        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a commit survives power loss, not just a crash
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if immediate:
            # Checkpoints copy the WAL into the database file; done inside a commit they stall
            # the writer for tens of milliseconds. The store runs them on a thread instead.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front, so a transaction never fails half-way on
        # upgrading a read lock; readers use WAL snapshots and never block writers.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class BatchWriter(Protocol[ItemT, ResultT]):
    """Writes many items of one kind in one go; ``write_one`` is the per-item fallback.

    ``write_many`` returns one outcome per item, in order: a result, or an exception to
    raise to that item's caller. If it raises instead, nothing it did is kept and each item
    is written on its own with ``write_one``.
    """

    def write_many(
        self, connection: Connection, items: list[ItemT]
    ) -> list[ResultT | Exception]: ...

    def write_one(self, connection: Connection, item: ItemT) -> ResultT: ...


@dataclass(slots=True)
class _Job:
    fn: Callable[[Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    batch: BatchWriter[Any, Any] | None = None
    item: Any = None

    def settle(self, result: Any, error: BaseException | None) -> None:
        def _set() -> None:
            if self.future.done():
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            _set()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(_set)


class Store:
    """Async front to the database. ``open()`` migrates; ``write``/``read`` run queries."""

    def __init__(
        self, url: str, *, writers: int | None = None, keys: StoreKeys | None = None
    ) -> None:
        self.url = normalize_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.keys = keys or StoreKeys()
        self._database_file: Path | None = None
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                self._database_file = Path(database)
                self._database_file.parent.mkdir(parents=True, exist_ok=True)
                _create_private(self._database_file)
        self._write_engine = make_engine(self.url, for_writes=True)
        self._read_engine = make_engine(self.url, for_writes=False)
        for engine in (self._write_engine, self._read_engine):
            engine.update_execution_options(**{KEYS_OPTION: self.keys})
        self._writer_count = writers or (1 if self.dialect == "sqlite" else 4)
        # SQLite answers in microseconds and has one writer anyway: its work runs on the
        # event loop itself, batched per loop turn, sparing the thread hand-offs and the GIL
        # contention a writer thread costs. PostgreSQL waits on the network: threads.
        self.inline = self.dialect == "sqlite"
        self._pending: list[_Job] = []
        self._flush_scheduled = False
        self._committing = False
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-commit")
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._auditor: threading.Thread | None = None
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        # Batched writes (publishes) have a writer thread of their own. Spread over the
        # writer threads, each idle thread took one job as it came, so batches were of one,
        # and they then queued on the audit head's row lock anyway: one thread taking all
        # that waits while the previous batch commits makes one transaction of them.
        self._batched: queue.Queue[_Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-read")
        self._open = False

    def is_set_up(self) -> bool:
        """Whether this database has the hub's schema (``init`` or ``serve`` made it)."""
        try:
            with self._read_engine.connect() as connection:
                return inspect(connection).has_table("alembic_version")
        except Exception as exc:
            raise StoreError(f"cannot reach the database at {self.safe_url}: {exc}") from exc

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic) and check the key files against the
        database; safe to run at every start."""
        config = Config()
        script_location = resources.files("alertcommons.store").joinpath("migrations")
        config.set_main_option("script_location", str(script_location))
        try:
            with self._write_engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except Exception as exc:
            raise StoreError(f"cannot set up the database at {self.safe_url}: {exc}") from exc
        self._check_keys()  # before anything is written with them

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def open(self) -> None:
        self.migrate()
        self._private_files()
        self.checkpoint_audit()
        if self.keys.audit is not None:
            self._auditor = threading.Thread(
                target=self._audit_loop, name="store-audit-checkpoint", daemon=True
            )
            self._auditor.start()
        if self.inline:
            self._open = True
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="store-checkpoint", daemon=True
            )
            self._checkpointer.start()
            return
        for number in range(self._writer_count):
            thread = threading.Thread(
                target=self._writer_loop,
                args=(self._queue,),
                name=f"store-writer-{number}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        batcher = threading.Thread(
            target=self._writer_loop,
            args=(self._batched,),
            name="store-batch-writer",
            daemon=True,
        )
        batcher.start()
        self._threads.append(batcher)
        self._open = True

    def close(self) -> None:
        self._committer.shutdown(wait=True)  # let a commit in flight finish
        if self.inline and self._pending:
            self._run_batch(self._pending)  # nothing accepted into the queue is dropped
            self._pending = []
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=30)
            self._checkpointer = None
        if self._auditor is not None:
            self._auditor.join(timeout=30)
            self._auditor = None
        if self._open and not self.inline:
            for _ in range(self._writer_count):
                self._queue.put(None)
            self._batched.put(None)
            for thread in self._threads:
                thread.join(timeout=30)
            self._threads.clear()
        if self._open:
            self.checkpoint_audit()
        self._open = False
        self._readers.shutdown(wait=True)
        self._write_engine.dispose()
        self._read_engine.dispose()

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a write transaction; return after the commit that includes it."""
        if not self._open:
            raise StoreError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._enqueue(_Job(fn, loop, future))
        return await future

    def _enqueue(self, job: _Job) -> None:
        if not self.inline:
            (self._queue if job.batch is None else self._batched).put(job)
            return
        self._pending.append(job)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            job.loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Run the waiting jobs' statements on the loop; commit (the disk flush) on a thread.

        A disk flush can stall for a long time on a busy disk; the loop serves other requests
        meanwhile, and jobs arriving in that time form the next, larger batch.
        """
        self._flush_scheduled = False
        if self._committing or not self._pending:
            return
        batch, self._pending = self._pending[:_BATCH_LIMIT], self._pending[_BATCH_LIMIT:]
        connection = self._write_engine.connect()
        try:
            transaction = connection.begin()
            outcomes = [o for group in _groups(batch) for o in self._run_group(connection, group)]
        except Exception as exc:
            connection.close()
            self._fail(batch, exc)
            self._reschedule(batch[0].loop)
            return
        self._committing = True
        loop = batch[0].loop
        commit = loop.run_in_executor(self._committer, _commit, connection, transaction)
        commit.add_done_callback(lambda done: self._committed(done, batch, outcomes))

    def _committed(
        self,
        done: asyncio.Future[None],
        batch: list[_Job],
        outcomes: list[tuple[_Job, Any, BaseException | None]],
    ) -> None:
        self._committing = False
        error = done.exception()
        if error is not None:
            self._fail(batch, error)
        else:
            for job, result, job_error in outcomes:
                job.settle(result, job_error)
        self._reschedule(batch[0].loop)

    def _reschedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pending and not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)

    @staticmethod
    def _fail(batch: list[_Job], error: BaseException) -> None:
        for job in batch:
            job.settle(None, _refused(error))

    async def write_batched(self, writer: BatchWriter[Any, T], item: Any) -> T:
        """Like :meth:`write`, but items for the same writer waiting together are written
        with one ``write_many`` call: one set of statements for the whole batch."""
        if not self._open:
            raise StoreError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        fn: Callable[[Connection], Any] = lambda connection: writer.write_one(connection, item)  # noqa: E731
        self._enqueue(_Job(fn, loop, future, writer, item))
        return await future

    async def read(self, fn: Callable[[Connection], T]) -> T:
        if self.inline:
            return self._run_read(fn)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    def run_write(self, fn: Callable[[Connection], T]) -> T:
        """Synchronous write for command-line tools (no event loop, no writer thread)."""
        with self._write_engine.begin() as connection:
            result = fn(connection)
        self.checkpoint_audit()  # a tool's records are pinned before it exits
        return result

    def checkpoint_audit(self) -> None:
        """Pin the audit head in the checkpoint file outside the database (if it moved).

        A failure is logged, never raised: the hub keeps warning people without it, and the
        next checkpoint covers what this one would have.
        """
        if self.keys.audit is None or self.keys.checkpoints is None:
            return
        try:
            with self._read_engine.connect() as connection:
                audit.checkpoint(connection)
        except Exception:
            log.exception("could not write an audit checkpoint to %s", self.keys.checkpoints)

    def _audit_loop(self) -> None:
        while not self._closing.wait(self.keys.checkpoint_seconds):
            self.checkpoint_audit()

    def _private_files(self) -> None:
        """Make the SQLite file and its companions owner-only (files from older versions).

        New files are created 0600 (see ``_create_private``); SQLite gives its -wal and -shm
        files the mode of the database file.
        """
        if self._database_file is None:
            return
        for suffix in _SQLITE_SIDE_FILES:
            private_file(self._database_file.with_name(self._database_file.name + suffix))

    def _check_keys(self) -> None:
        """Refuse to run with key files other than those the database was written with.

        When the secrets key is first used with this database (the upgrade to sealed
        settings), settings stored in plain text until then are sealed in the same
        transaction; later, plain text is never trusted (see ``store/endpoints.py``).
        """
        try:
            sealed = self._record_keys()
        except IntegrityError:  # another node recorded its keys at the same moment
            sealed = self._record_keys()
        if sealed and self.dialect == "sqlite":
            # The old plaintext lingers in freed pages and the WAL until they are rewritten.
            raw = self._write_engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("VACUUM")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.close()
            finally:
                raw.close()
        if sealed:
            log.warning("sealed the settings of %d endpoints stored in plain text", sealed)

    def _record_keys(self) -> int:
        with self._write_engine.begin() as connection:
            first_use = check_fingerprints(connection, self.keys)
            if "secrets" in first_use:
                return endpoint_queries.seal_plaintext(connection)
        return 0

    def run_read(self, fn: Callable[[Connection], T]) -> T:
        return self._run_read(fn)

    def _run_read(self, fn: Callable[[Connection], T]) -> T:
        with self._read_engine.connect() as connection:
            return fn(connection)

    def _checkpoint_loop(self) -> None:
        """Fold the SQLite WAL into the database file every second, off the writer's path."""
        while not self._closing.wait(1.0):
            self._checkpoint("PASSIVE")
        self._checkpoint("TRUNCATE")

    def _checkpoint(self, mode: str) -> None:
        try:
            with self._read_engine.connect() as connection:
                connection.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")
        except Exception:  # a busy database just means: next time
            pass

    def _writer_loop(self, jobs: queue.Queue[_Job | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < _BATCH_LIMIT:
                try:
                    more = jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self._write_engine.connect() as connection, connection.begin():
                for group in _groups(batch):
                    outcomes.extend(self._run_group(connection, group))
        except Exception as exc:  # the commit itself failed: nothing in the batch is durable
            for job in batch:
                job.settle(None, _refused(exc))
            return
        for job, result, error in outcomes:
            job.settle(result, error)

    def _run_group(
        self, connection: Connection, group: list[_Job]
    ) -> list[tuple[_Job, Any, BaseException | None]]:
        writer = group[0].batch
        if writer is not None and len(group) > 1:
            savepoint = connection.begin_nested()
            try:
                results = writer.write_many(connection, [job.item for job in group])
            except Exception:
                savepoint.rollback()  # fall through: each item on its own
            else:
                savepoint.commit()
                return [
                    (job, None, r) if isinstance(r, Exception) else (job, r, None)
                    for job, r in zip(group, results, strict=True)
                ]
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        for job in group:
            savepoint = connection.begin_nested()
            try:
                result = job.fn(connection)
            except Exception as exc:
                savepoint.rollback()
                outcomes.append((job, None, exc))
            else:
                savepoint.commit()
                outcomes.append((job, result, None))
        return outcomes


def _create_private(path: Path) -> None:
    """Create an empty database file readable by its owner only (SQLite takes it as new)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def _commit(connection: Connection, transaction: Any) -> None:
    try:
        transaction.commit()
    finally:
        connection.close()


def _groups(batch: list[_Job]) -> list[list[_Job]]:
    """Consecutive jobs for the same batch writer go together; others one by one."""
    groups: list[list[_Job]] = []
    for job in batch:
        if groups and job.batch is not None and groups[-1][0].batch is job.batch:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups
