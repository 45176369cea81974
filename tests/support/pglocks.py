"""Making two writes meet inside their transactions on PostgreSQL: the test holds the audit
chain's head row, which every audited write locks last, so each write waits there (or on
whatever it locks first) until the test lets go."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from tests.support.waiting import until


@contextmanager
def audit_head_held(url: str) -> Iterator[tuple[Callable[[int], bool], Callable[[], None]]]:
    """While inside: ``waiting(n)`` says whether ``n`` connections wait on a lock, and
    ``release()`` lets the writes go on."""
    engine = create_engine(url)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            holder.begin()
            holder.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))

            def waiting(count: int) -> bool:
                found = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
                watcher.rollback()
                return int(found) >= count

            yield waiting, holder.rollback
    finally:
        engine.dispose()


async def writes_meet(waiting: Callable[[int], bool], count: int, what: str) -> None:
    """Wait until ``count`` writes wait on a lock, or at least one when the hub's writer put
    them into one transaction (it batches writes that arrive together): then they cannot race
    each other, and the test's assertions on the outcome are what remains to check."""
    await until(lambda: waiting(1), what=what)
    with contextlib.suppress(AssertionError):
        await until(lambda: waiting(count), seconds=3)
