"""The store's writer: group commit, per-job isolation, batch writers and their fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, insert, select, text

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.hub.publish import Publisher
from alertcommons.hub.signer import load_or_create
from alertcommons.problems import Conflict
from alertcommons.store import audit, orgs
from alertcommons.store.engine import Store
from alertcommons.store.keyring import load_keys
from alertcommons.store.schema import alerts, organizations
from tests.support.alerts import make_alert

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    keys = load_keys(tmp_path / "keys", audit_key_file=None, secrets_key_file=None)
    opened = Store(database_url, keys=keys)
    opened.open()
    yield opened
    opened.close()


def _count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(organizations)).scalar_one())


async def test_concurrent_writes_all_committed_and_answered(store: Store) -> None:
    def create(n: int) -> Callable[[Connection], str]:
        return lambda c: orgs.create_org(
            c, name=f"o{n}", kind="receiver", sender=None, jurisdiction=[]
        )

    ids = await asyncio.gather(*(store.write(create(n)) for n in range(200)))
    assert len(set(ids)) == 200
    assert await store.read(_count) == 200


async def test_a_failing_job_does_not_undo_its_neighbours(store: Store) -> None:
    def good(n: int) -> Callable[[Connection], str]:
        return lambda c: orgs.create_org(
            c, name=f"ok{n}", kind="receiver", sender=f"s{n}", jurisdiction=[]
        )

    def bad(c: Connection) -> None:
        orgs.create_org(c, name="dup", kind="issuer", sender="s1", jurisdiction=[])

    results = await asyncio.gather(
        store.write(good(0)),
        store.write(good(1)),
        store.write(bad),
        store.write(good(2)),
        return_exceptions=True,
    )
    assert isinstance(results[2], Exception)
    assert not any(isinstance(r, Exception) for r in results[:2] + results[3:])
    assert await store.read(_count) == 3


class _Flaky:
    """A batch writer whose batch path always fails: the fallback must still write."""

    def __init__(self) -> None:
        self.batches = 0

    def write_many(self, connection: Connection, items: list[str]) -> list[str | Exception]:
        self.batches += 1
        connection.execute(text("SELECT 1"))
        raise RuntimeError("batch path broken")

    def write_one(self, connection: Connection, item: str) -> str:
        connection.execute(
            insert(organizations).values(
                id=item,
                name=item,
                kind="receiver",
                sender=None,
                jurisdiction="[]",
                active=True,
                created_at=func.now(),
                updated_at=func.now(),
            )
        )
        return item


async def test_batch_writer_falls_back_to_one_by_one(store: Store) -> None:
    writer = _Flaky()
    names = [f"org{n}" for n in range(50)]
    results = await asyncio.gather(*(store.write_batched(writer, name) for name in names))
    assert results == names
    assert await store.read(_count) == 50


async def test_publisher_batch_handles_repeats_and_conflicts(store: Store, tmp_path: Path) -> None:
    key = load_or_create(tmp_path / "k.pem", tmp_path / "c.pem", create=True, name="test")
    org_id = await store.write(
        lambda c: orgs.create_org(c, name="x", kind="issuer", sender="x.jp", jurisdiction=["13"])
    )
    principal = Principal(
        org_id, "x", "t", frozenset({"issuer"}), "x.jp", Jurisdiction(frozenset({"13"}))
    )
    publisher = Publisher(store, key)
    alert = make_alert("x.jp", ["131016"])
    changed = replace(alert, note="different")
    others = [make_alert("x.jp", ["131016"]) for _ in range(20)]
    results = await asyncio.gather(
        publisher.publish(principal, alert),
        publisher.publish(principal, alert),
        publisher.publish(principal, changed),
        *(publisher.publish(principal, other) for other in others),
        return_exceptions=True,
    )
    same_identifier, rest = results[:3], results[3:]
    # Which of the three lands first is up to the writers (PostgreSQL runs several): exactly
    # one is stored; a repeat of the stored content gets the same record, different content
    # gets 409.
    created = [r for r in same_identifier if not isinstance(r, BaseException) and r.created]
    assert len(created) == 1
    winner = created[0]
    for outcome in same_identifier:
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, Conflict)
        else:
            assert outcome.alert_id == winner.alert_id
    assert sum(isinstance(r, Conflict) for r in same_identifier) in (1, 2)
    assert all(not isinstance(r, BaseException) and r.created for r in rest)
    stored = await store.read(
        lambda c: c.execute(select(func.count()).select_from(alerts)).scalar_one()
    )
    assert stored == 21
    report = await store.read(audit.verify_chain)
    assert report.intact and report.records == 21
